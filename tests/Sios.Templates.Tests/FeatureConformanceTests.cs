namespace Sios.Templates.Tests;

/// <summary>Each small feature template renders as the reference renders it (or fails where it fails).</summary>
public sealed class FeatureConformanceTests
{
    public static TheoryData<string> Names()
    {
        var data = new TheoryData<string>();
        foreach (var c in FeatureCases.All)
        {
            data.Add(c.Id);
        }

        return data;
    }

    [ReferenceTheory]
    [MemberData(nameof(Names))]
    public void Feature_renders_as_the_reference_does(string id) => Conformance.Check(FeatureCases.All.Single(c => c.Id == id));
}

/// <summary>Guards the feature cases themselves: a case named *_fails is one the reference refuses, and no other is.</summary>
public sealed class FeatureCaseNamingTests
{
    [ReferenceTheory]
    [InlineData("_fails")]
    public void Exactly_the_cases_named_fails_fail_in_the_reference(string suffix)
    {
        var wrong = FeatureCases.All
            .Where(c => c.Id.EndsWith(suffix, StringComparison.Ordinal) != (Reference.For(c.Id).Error is not null))
            .Select(c => $"{c.Id}: {Reference.For(c.Id).Error ?? Reference.For(c.Id).Text}")
            .ToList();
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
    }
}
