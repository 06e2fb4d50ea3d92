namespace Sios.Brains.Engines;

/// <summary>A model or adapter file could not be loaded; the message names the file and the reason.</summary>
public class ModelLoadException : Exception
{
    /// <summary>Creates the exception with a reason a person can act on.</summary>
    public ModelLoadException(string message) : base(message) { }

    /// <summary>Creates the exception with a reason and the underlying cause.</summary>
    public ModelLoadException(string message, Exception inner) : base(message, inner) { }

    /// <summary>Creates the exception with no reason (prefer the other constructors).</summary>
    public ModelLoadException() { }
}

/// <summary>A chat was requested from a model that has no chat template, and none was configured.</summary>
public class MissingChatTemplateException : InvalidOperationException
{
    /// <summary>Creates the exception with a reason a person can act on.</summary>
    public MissingChatTemplateException(string message) : base(message) { }

    /// <summary>Creates the exception with a reason and the underlying cause.</summary>
    public MissingChatTemplateException(string message, Exception inner) : base(message, inner) { }

    /// <summary>Creates the exception with no reason (prefer the other constructors).</summary>
    public MissingChatTemplateException() { }
}

/// <summary>A request does not fit the engine's context window.</summary>
public class ContextWindowExceededException : ArgumentException
{
    /// <summary>Creates the exception with a reason a person can act on.</summary>
    public ContextWindowExceededException(string message) : base(message) { }

    /// <summary>Creates the exception with a reason and the underlying cause.</summary>
    public ContextWindowExceededException(string message, Exception inner) : base(message, inner) { }

    /// <summary>Creates the exception with no reason (prefer the other constructors).</summary>
    public ContextWindowExceededException() { }
}

/// <summary>llama.cpp failed while decoding; the engine's pending requests end with this error.</summary>
public class InferenceException : Exception
{
    /// <summary>Creates the exception with a reason a person can act on.</summary>
    public InferenceException(string message) : base(message) { }

    /// <summary>Creates the exception with a reason and the underlying cause.</summary>
    public InferenceException(string message, Exception inner) : base(message, inner) { }

    /// <summary>Creates the exception with no reason (prefer the other constructors).</summary>
    public InferenceException() { }
}

/// <summary>The brain's chat template refused to render a conversation (its own raise_exception, or a construct failing on the input).</summary>
public class ChatTemplateRefusedException : InvalidOperationException
{
    /// <summary>Creates the exception with <paramref name="message"/>.</summary>
    public ChatTemplateRefusedException(string message) : base(message) { }

    /// <summary>Creates the exception with <paramref name="message"/> and its cause.</summary>
    public ChatTemplateRefusedException(string message, Exception inner) : base(message, inner) { }

    /// <summary>Creates the exception.</summary>
    public ChatTemplateRefusedException() { }
}
