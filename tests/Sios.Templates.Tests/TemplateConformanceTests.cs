namespace Sios.Templates.Tests;

/// <summary>
/// Every vector chat template (../shared/vectors/chat-templates) with every conversation of <see cref="Conversations"/>
/// renders exactly as @huggingface/jinja 0.5.11 renders it, or fails where it fails.
/// </summary>
public sealed class TemplateConformanceTests
{
    public static TheoryData<string> Templates()
    {
        // When the vectors are absent the theory is skipped; one row keeps discovery from failing on no data.
        var data = new TheoryData<string>();
        foreach (var name in TemplateFiles.Names().DefaultIfEmpty("(vectors absent)"))
        {
            data.Add(name);
        }

        return data;
    }

    [TemplateVectorTheory]
    [MemberData(nameof(Templates))]
    public void Template_renders_every_conversation_as_the_reference_does(string file)
    {
        var failures = new List<string>();
        foreach (var c in TemplateFiles.Cases(file))
        {
            try
            {
                Conformance.Check(c);
            }
            catch (Xunit.Sdk.XunitException e)
            {
                failures.Add(e.Message);
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n\n", failures));
    }

    [TemplateVectorTheory]
    [InlineData("chat-templates")]
    public void All_65_vector_templates_are_covered(string folder)
    {
        Assert.Equal(65, TemplateFiles.Names().Count());
        Assert.True(Directory.Exists(Sios.Tests.Shared.Vectors.PathOf(folder)));
    }
}
