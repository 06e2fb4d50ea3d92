namespace Sios.Server.Access;

/// <summary>The names of <see cref="ApiKeyRole"/> on the command line, in the key file and on the wire: user, auditor, admin.</summary>
public static class ApiKeyRoleNames
{
    /// <summary>Every role name, in order of increasing power.</summary>
    public static IReadOnlyList<string> All { get; } = ["user", "auditor", "admin"];

    /// <summary>The lower-case name of <paramref name="role"/>.</summary>
    public static string ToName(ApiKeyRole role) => role switch
    {
        ApiKeyRole.User => "user",
        ApiKeyRole.Auditor => "auditor",
        ApiKeyRole.Admin => "admin",
        _ => throw new ArgumentOutOfRangeException(nameof(role), role, "not an API key role"),
    };

    /// <summary>The role named <paramref name="name"/> (exact, lower case); false for anything else.</summary>
    public static bool TryParse(string? name, out ApiKeyRole role)
    {
        (var ok, role) = name switch
        {
            "user" => (true, ApiKeyRole.User),
            "auditor" => (true, ApiKeyRole.Auditor),
            "admin" => (true, ApiKeyRole.Admin),
            _ => (false, ApiKeyRole.User),
        };
        return ok;
    }

    /// <summary>The role named <paramref name="name"/>, or an <see cref="ApiKeyException"/> listing the valid names.</summary>
    public static ApiKeyRole Parse(string? name) =>
        TryParse(name, out var role)
            ? role
            : throw new ApiKeyException($"'{name}' is not a role; use one of {string.Join(", ", All)}", ApiKeyError.Invalid);
}
