namespace Sios.Brains.Engines;

/// <summary>GBNF grammars that make llama.cpp emit JSON.</summary>
public static class JsonGrammar
{
    /// <summary>
    /// The shared JSON rules: RFC 8259 values with strings limited to valid escapes, integers to 15 digits (exact in a
    /// JavaScript number) and whitespace to at most one space or newline between tokens, so a sampler cannot wander
    /// into endless blanks.
    /// </summary>
    public const string ValueRules = """
        value  ::= object | array | string | number | "true" | "false" | "null"
        object ::= "{" ws ( member ( "," ws member )* )? "}"
        member ::= string ":" ws value ws
        array  ::= "[" ws ( value ws ( "," ws value ws )* )? "]"
        string ::= "\"" char* "\""
        char   ::= [^"\\\x00-\x1F\x7F] | "\\" ( ["\\/bfnrt] | "u" [0-9a-fA-F] [0-9a-fA-F] [0-9a-fA-F] [0-9a-fA-F] )
        number ::= integer fraction? exponent?
        integer ::= "-"? ( "0" | [1-9] [0-9]{0,14} )
        fraction ::= "." [0-9]{1,16}
        exponent ::= [eE] [-+]? [0-9]{1,3}
        ws     ::= ( " " | "\n" )?
        """;

    /// <summary>Any single JSON object (OpenAI's <c>response_format: json_object</c>).</summary>
    public static string AnyObject { get; } = "root ::= object\n" + ValueRules + "\n";
}
