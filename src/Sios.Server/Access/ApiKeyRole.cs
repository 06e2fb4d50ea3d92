namespace Sios.Server.Access;

/// <summary>What an API key may do beyond asking the brains in its scope.</summary>
public enum ApiKeyRole
{
    /// <summary>Inference on the brains in scope, and the receipts of its own answers.</summary>
    User,

    /// <summary>Also reads the whole log over HTTP (<c>/log/</c>).</summary>
    Auditor,

    /// <summary>Everything an auditor may, on every brain in scope.</summary>
    Admin,
}
