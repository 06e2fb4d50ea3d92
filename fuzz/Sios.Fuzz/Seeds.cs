using System.Text;
using Sios.Brains.Synth;
using Sios.Tests.Fuzz;
using Sios.Verify.Checkpoints;
using Sios.Verify.Receipts;

namespace Sios.Fuzz;

/// <summary>
/// Writes one seed corpus per target, made by SIOS itself on each run (nothing is copied in): checkpoints and
/// receipts really signed with fresh ML-DSA-65 + ML-DSA-44 and Ed25519 keys, vkeys, PEMs, an entry bundle, tiny GGUF
/// files from the synthesizer, and valid chat requests. The trusted keys go beside them for the targets to load.
/// </summary>
internal static class Seeds
{
    /// <summary>The folder under the seed directory that holds the trusted vkey files.</summary>
    public const string KeysFolder = "keys";

    /// <summary>Writes <c>&lt;directory&gt;/&lt;target&gt;/*</c> for every target and <c>&lt;directory&gt;/keys/*.vkeys</c>.</summary>
    public static void Write(string directory)
    {
        var artefacts = SignedArtefacts.Create();
        TrustedKeys.Save(Path.Combine(directory, KeysFolder), artefacts.MlDsa.Keys, artefacts.Ed25519.Keys);
        var notes = new Dictionary<string, byte[]> { ["mldsa65"] = artefacts.MlDsa.Checkpoint, ["ed25519"] = artefacts.Ed25519.Checkpoint };
        Save(directory, "signed-note", notes);
        var extended = new Checkpoint(SignedArtefacts.Origin, 2, new byte[32], ["extension line"]).ToNoteText();
        Save(directory, "checkpoint", new Dictionary<string, byte[]>(notes) { ["text-with-extension"] = Encoding.UTF8.GetBytes(extended) });
        Save(directory, "tlog-proof", new Dictionary<string, byte[]>
        {
            ["mldsa65-0"] = artefacts.MlDsa.Receipts[0],
            ["mldsa65-1"] = artefacts.MlDsa.Receipts[1],
            ["ed25519-0"] = artefacts.Ed25519.Receipts[0],
        });
        Save(directory, "vkey", artefacts.MlDsa.Vkeys.Concat(artefacts.Ed25519.Vkeys)
            .Select((v, i) => (Name: $"key{i}", Bytes: Encoding.UTF8.GetBytes(v))).ToDictionary(p => p.Name, p => p.Bytes));
        Save(directory, "pem", new Dictionary<string, byte[]> { ["mldsa44"] = artefacts.Pems[0], ["mldsa65"] = artefacts.Pems[1] });
        Save(directory, "entry-bundle", new Dictionary<string, byte[]> { ["two-entries"] = artefacts.Bundle });
        Save(directory, "gguf-header", new Dictionary<string, byte[]> { ["every-type"] = EveryTypeGguf(), ["tiny-model"] = TinyModel() });
        Save(directory, "chat-request", ChatRequests());
        Save(directory, "messages-request", new Dictionary<string, byte[]>
        {
            ["tools"] = """{"model":"tiny","max_tokens":16,"system":[{"type":"text","text":"be brief"}],"stop_sequences":["END"],"messages":[{"role":"user","content":"w?"},{"role":"assistant","content":[{"type":"text","text":"let me see"},{"type":"tool_use","id":"t1","name":"get_weather","input":{"city":"Oslo"}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":[{"type":"text","text":"rain"}]},{"type":"text","text":"and?"}]}],"tools":[{"name":"get_weather","description":"d","input_schema":{"type":"object","properties":{"city":{"type":"string"}}}}],"tool_choice":{"type":"tool","name":"get_weather","disable_parallel_tool_use":true}}"""u8.ToArray(),
            ["plain"] = """{"model":"tiny","max_tokens":4,"temperature":0.5,"top_p":0.9,"stream":true,"messages":[{"role":"user","content":"hi"}]}"""u8.ToArray(),
        });
        Save(directory, "responses-request", new Dictionary<string, byte[]>
        {
            ["items"] = """{"model":"tiny","instructions":"be brief","input":[{"role":"user","content":[{"type":"input_text","text":"w?"}]},{"type":"function_call","call_id":"c1","name":"get_weather","arguments":"{\"city\":\"Oslo\"}"},{"type":"function_call_output","call_id":"c1","output":"rain"}],"tools":[{"type":"function","name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}},"strict":true}],"tool_choice":{"type":"function","name":"get_weather"},"store":false}"""u8.ToArray(),
            ["text"] = """{"model":"tiny","input":"hi","max_output_tokens":8,"stream":true,"store":false,"text":{"format":{"type":"json_schema","name":"s","schema":{"type":"object"}}}}"""u8.ToArray(),
        });
        Save(directory, "json-schema", new Dictionary<string, byte[]>
        {
            ["object"] = """{"type":"object","properties":{"name":{"type":"string","minLength":1,"maxLength":8},"n":{"type":"integer"},"tags":{"type":"array","items":{"enum":["a","b"]},"minItems":1,"maxItems":3}},"required":["name"],"additionalProperties":false}"""u8.ToArray(),
            ["refs"] = """{"$defs":{"p":{"anyOf":[{"type":"number"},{"type":"null"},{"const":"x\"y"}]}},"type":"object","properties":{"a":{"$ref":"#/$defs/p"},"b":{"type":["boolean","string"],"pattern":"^[a-z]+$"}}}"""u8.ToArray(),
            ["true"] = "true"u8.ToArray(),
            ["recursive"] = """{"$defs":{"n":{"anyOf":[{"type":"null"},{"type":"object","properties":{"v":{"enum":["ab","ac",1]},"kids":{"type":"array","items":{"$ref":"#/$defs/n"},"maxItems":2}},"required":["v"]}]}},"$ref":"#/$defs/n"}"""u8.ToArray(),
        });
        WriteDictionaries(directory);
    }

    /// <summary>
    /// Writes <c>&lt;directory&gt;/&lt;target&gt;.dict</c>: each format's tokens in AFL's dictionary syntax, so that mutations
    /// can insert whole keywords, which byte flips would take long to spell.
    /// </summary>
    private static void WriteDictionaries(string directory)
    {
        string[] note = ["\u2014 ", "\n", "\n\n", SignedArtefacts.Origin, "+", "/", "="];
        string[] json = ["{", "}", "[", "]", ":", ",", "\"", "null", "true", "false", "-1", "0", "1e400", "\\u0000", "\\ud800"];
        var text = new Dictionary<string, string[]>
        {
            ["signed-note"] = note,
            ["checkpoint"] = [.. note, "0", "18446744073709551616"],
            ["tlog-proof"] = [.. note, TlogProof.Header + "\n", "extra ", "index ", "0", "9223372036854775807"],
            ["vkey"] = ["+", "/wYJYIZIAWUDBAMS", "AQ", "Bg", SignedArtefacts.Origin, "00000000"],
            ["pem"] = ["-----BEGIN PUBLIC KEY-----\n", "-----END PUBLIC KEY-----\n", "\n", "MIIHsjALBglghkgBZQMEAxI", "MIIFMjALBglghkgBZQMEAxE"],
            ["json-schema"] =
            [
                .. json, "type", "object", "array", "string", "integer", "number", "boolean", "properties", "required", "items",
                "additionalProperties", "enum", "const", "anyOf", "oneOf", "allOf", "$ref", "$defs", "#/$defs/", "definitions",
                "minItems", "maxItems", "minLength", "maxLength", "pattern", "format", "prefixItems", "minimum", "maximum",
                "exclusiveMinimum", "exclusiveMaximum", "minProperties", "maxProperties", "#/$defs/n", "\"$ref\":\"#/$defs/n\"",
            ],
            ["chat-request"] =
            [
                .. json, "model", "messages", "role", "content", "system", "user", "assistant", "developer", "tool", "type", "text",
                "image_url", "max_tokens", "max_completion_tokens", "temperature", "top_p", "seed", "stop", "stream", "stream_options",
                "include_usage", "response_format", "json_object", "json_schema", "schema", "n", "tools", "functions", "logprobs", "audio",
                "tool_choice", "tool_calls", "tool_call_id", "function", "arguments", "parameters", "strict", "parallel_tool_calls",
                "required", "auto", "none", "name", "id", "function_call",
            ],
            ["messages-request"] =
            [
                .. json, "model", "messages", "role", "content", "system", "user", "assistant", "type", "text", "image", "tool_use",
                "tool_result", "tool_use_id", "input", "is_error", "max_tokens", "stop_sequences", "temperature", "top_p", "top_k",
                "stream", "tools", "input_schema", "tool_choice", "auto", "any", "tool", "none", "name", "id", "thinking",
                "disable_parallel_tool_use",
            ],
            ["responses-request"] =
            [
                .. json, "model", "input", "instructions", "role", "content", "user", "assistant", "developer", "system", "type",
                "message", "input_text", "output_text", "function_call", "function_call_output", "item_reference", "call_id",
                "arguments", "output", "tools", "function", "parameters", "tool_choice", "text", "format", "json_schema", "schema",
                "max_output_tokens", "store", "stream", "previous_response_id", "resp_", "reasoning",
            ],
        };
        var binary = new Dictionary<string, byte[][]>
        {
            ["entry-bundle"] = [[0, 0], [0xff, 0xff], [0, 1], "{\"v\":1}"u8.ToArray()],
            ["gguf-header"] =
            [
                "GGUF"u8.ToArray(), [3, 0, 0, 0], [2, 0, 0, 0], [8, 0, 0, 0], [9, 0, 0, 0], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
                Encoding.UTF8.GetBytes(Gguf.AlignmentKey), "general.architecture"u8.ToArray(), "tokenizer.ggml.tokens"u8.ToArray(),
            ],
        };
        var all = text.Select(p => (p.Key, Words: p.Value.Select(Encoding.UTF8.GetBytes).ToArray())).Concat(binary.Select(p => (p.Key, Words: p.Value)));
        foreach (var (target, words) in all)
        {
            File.WriteAllLines(Path.Combine(directory, target + ".dict"), words.Select((w, i) => $"t{i}=\"{Escape(w)}\""));
        }
    }

    /// <summary>AFL's dictionary escaping: printable ASCII as is, quotes, backslashes and every other byte as \xNN.</summary>
    private static string Escape(byte[] token)
    {
        var sb = new StringBuilder();
        foreach (var b in token)
        {
            sb.Append(b is >= 0x20 and < 0x7f and not (byte)'"' and not (byte)'\\' ? ((char)b).ToString() : $"\\x{b:x2}");
        }

        return sb.ToString();
    }

    /// <summary>A small GGUF with one metadata entry of each kind the reader decodes and two small tensors.</summary>
    private static byte[] EveryTypeGguf()
    {
        var writer = new GgufWriter()
            .AddString("general.architecture", "llama")
            .AddUInt8("fuzz.u8", 7)
            .AddUInt32("fuzz.u32", 32)
            .AddInt32("fuzz.i32", -32)
            .AddUInt64("fuzz.u64", 64)
            .AddFloat32("fuzz.f32", 0.5f)
            .AddBool("fuzz.bool", true)
            .AddStringArray("fuzz.strings", ["a", "bc"])
            .AddInt32Array("fuzz.i32s", [1, -1])
            .AddUInt32Array("fuzz.u32s", [1, 2])
            .AddFloat32Array("fuzz.f32s", [1f, 2f])
            .AddTensor("t.f32", GgufTensorType.F32, [2, 2], [1f, 2f, 3f, 4f])
            .AddTensor("t.f16", GgufTensorType.F16, [2], [1f, 2f]);
        using var stream = new MemoryStream();
        writer.WriteTo(stream);
        return stream.ToArray();
    }

    /// <summary>The smallest model the synthesizer makes: a whole llama GGUF with its byte vocabulary.</summary>
    private static byte[] TinyModel()
    {
        using var stream = new MemoryStream();
        TinyModelSynth.WriteModel(stream, new TinyModelOptions { Layers = 1, Embedding = 8, Heads = 2, KvHeads = 1, FeedForward = 8, Context = 16 });
        return stream.ToArray();
    }

    private static Dictionary<string, byte[]> ChatRequests() => new()
    {
        ["full"] = """{"model":"tiny","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hi"}],"max_tokens":16,"temperature":0.5,"top_p":0.9,"seed":7,"stop":["\n","END"],"stream":true,"stream_options":{"include_usage":true}}"""u8.ToArray(),
        ["parts"] = """{"model":"tiny","messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}],"response_format":{"type":"json_object"}}"""u8.ToArray(),
        ["schema"] = """{"model":"auto","messages":[{"role":"user","content":"x"}],"n":1,"max_completion_tokens":4,"response_format":{"type":"json_schema","json_schema":{"name":"s","schema":{"type":"object","properties":{"a":{"type":"integer"}}}}}}"""u8.ToArray(),
        ["tools"] = """{"model":"tiny","messages":[{"role":"user","content":"w?"},{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Oslo\"}"}}]},{"role":"tool","tool_call_id":"c1","content":"rain"}],"tools":[{"type":"function","function":{"name":"get_weather","description":"d","parameters":{"type":"object","properties":{"city":{"type":"string","enum":["Oslo","Lima"]}},"required":["city"]},"strict":true}}],"tool_choice":{"type":"function","function":{"name":"get_weather"}},"parallel_tool_calls":false}"""u8.ToArray(),
        ["required"] = """{"model":"tiny","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"a"}},{"type":"function","function":{"name":"b","parameters":{"type":"object","properties":{"n":{"type":"integer"}}}}}],"tool_choice":"required"}"""u8.ToArray(),
    };

    private static void Save(string directory, string target, IReadOnlyDictionary<string, byte[]> seeds)
    {
        var folder = Path.Combine(directory, target);
        Directory.CreateDirectory(folder);
        foreach (var (name, bytes) in seeds)
        {
            File.WriteAllBytes(Path.Combine(folder, name), bytes);
        }
    }
}
