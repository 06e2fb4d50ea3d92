using System.Text;

namespace Sios.Brains.Engines;

// The grammar's syntax tree and its reader: the GBNF llama.cpp parses, read as Run checks it.
internal static partial class GbnfCheck
{
    /// <summary>A set of characters: one bit per ASCII character and one for everything beyond ASCII.</summary>
    private readonly record struct Chars(UInt128 Ascii, bool Wide)
    {
        public const int Buckets = 129;

        public static Chars None => default;

        public static Chars Of(int c) => c < 128 ? new(UInt128.One << c, false) : new(UInt128.Zero, true);

        public static Chars Range(int from, int to)
        {
            var set = None;
            for (var c = from; c <= Math.Min(to, 127); c++)
            {
                set = set.Union(Of(c));
            }

            return to >= 128 ? set with { Wide = true } : set;
        }

        public Chars Union(Chars other) => new(Ascii | other.Ascii, Wide || other.Wide);

        public Chars Negate() => new(~Ascii, true);

        public bool Has(int bucket) => bucket == 128 ? Wide : ((Ascii >> bucket) & UInt128.One) != UInt128.Zero;
    }

    private abstract class Node;

    private sealed class Lit(string text) : Node
    {
        public string Text { get; } = text;
    }

    private sealed class Cls(Chars chars) : Node
    {
        public Chars Chars { get; } = chars;
    }

    private sealed class Ref(string name) : Node
    {
        public string Name { get; } = name;
        public int Rule { get; set; } = -1;
    }

    private sealed class Seq(Node[] items) : Node
    {
        public Node[] Items { get; } = items;
    }

    private sealed class Alt(Node[] options) : Node
    {
        public Node[] Options { get; } = options;

        /// <summary>For each option, the group of options it may stay open with (see the type's remarks).</summary>
        public int[] Group { get; set; } = [];
    }

    /// <summary>A repetition; <see cref="Max"/> is -1 when unbounded.</summary>
    private sealed class Rep(Node item, int min, int max) : Node
    {
        public Node Item { get; } = item;
        public int Min { get; } = min;
        public int Max { get; } = max;
    }

    private sealed record Grammar(List<string> Names, List<Node> Bodies);

    /// <summary>A recursive-descent reader of the GBNF subset llama.cpp parses (no token references).</summary>
    private sealed class Parser(string text)
    {
        private readonly Grammar _grammar = new([], []);
        private int _pos;

        public Grammar Parse()
        {
            var index = new Dictionary<string, int>(StringComparer.Ordinal);
            Space(newlines: true);
            while (_pos < text.Length)
            {
                var name = Name();
                Space(newlines: false);
                Expect("::=");
                Space(newlines: true);
                var body = Alternates(nested: false);
                if (!index.TryAdd(name, _grammar.Names.Count))
                {
                    throw Defect($"rule '{name}' is defined twice");
                }

                _grammar.Names.Add(name);
                _grammar.Bodies.Add(body);
                if (_pos < text.Length && text[_pos] is not ('\n' or '\r'))
                {
                    throw Defect($"expected the end of rule '{name}' at character {_pos}");
                }

                Space(newlines: true);
            }

            if (!index.ContainsKey("root"))
            {
                throw Defect("there is no root rule");
            }

            foreach (var body in _grammar.Bodies)
            {
                foreach (var r in Walk(body).OfType<Ref>())
                {
                    r.Rule = index.TryGetValue(r.Name, out var i) ? i : throw Defect($"rule '{r.Name}' is used but not defined");
                }
            }

            return _grammar;
        }

        private Node Alternates(bool nested)
        {
            var options = new List<Node> { Sequence(nested) };
            while (_pos < text.Length && text[_pos] == '|')
            {
                _pos++;
                Space(newlines: true);
                options.Add(Sequence(nested));
            }

            return options.Count == 1 ? options[0] : new Alt([.. options]);
        }

        private Node Sequence(bool nested)
        {
            var items = new List<Node>();
            while (_pos < text.Length)
            {
                var c = text[_pos];
                if (c == '"')
                {
                    _pos++;
                    items.Add(Literal());
                }
                else if (c == '[')
                {
                    _pos++;
                    items.Add(Class());
                }
                else if (c == '.')
                {
                    _pos++;
                    items.Add(new Cls(Chars.Range(0, 0x10FFFF)));
                }
                else if (IsWordChar(c))
                {
                    items.Add(new Ref(Name()));
                }
                else if (c == '(')
                {
                    _pos++;
                    Space(newlines: true);
                    items.Add(Alternates(nested: true));
                    Expect(")");
                }
                else if (c is '*' or '+' or '?' or '{')
                {
                    if (items.Count == 0)
                    {
                        throw Defect($"'{c}' at character {_pos} repeats nothing");
                    }

                    _pos++;
                    var (min, max) = c switch { '*' => (0, -1), '+' => (1, -1), '?' => (0, 1), _ => Bounds() };
                    items[^1] = new Rep(items[^1], min, max);
                }
                else
                {
                    break;
                }

                Space(nested);
            }

            return items.Count switch
            {
                0 => throw Defect($"an alternative is empty at character {_pos}"),
                1 => items[0],
                _ => new Seq([.. items]),
            };
        }

        private (int Min, int Max) Bounds()
        {
            Space(newlines: false);
            var min = Number();
            Space(newlines: false);
            var max = min;
            if (_pos < text.Length && text[_pos] == ',')
            {
                _pos++;
                Space(newlines: false);
                max = _pos < text.Length && char.IsAsciiDigit(text[_pos]) ? Number() : -1;
                Space(newlines: false);
            }

            Expect("}");
            if (max == 0 || (max >= 0 && max < min) || Math.Max(min, max) > NativeRepetitionLimit)
            {
                throw Defect($"the repetition {{{min},{max}}} is empty, inverted or over llama.cpp's {NativeRepetitionLimit}");
            }

            return (min, max);
        }

        private int Number()
        {
            var start = _pos;
            while (_pos < text.Length && char.IsAsciiDigit(text[_pos]) && _pos - start < 9)
            {
                _pos++;
            }

            return _pos > start ? int.Parse(text.AsSpan(start, _pos - start), provider: null) : throw Defect($"expected a number at character {_pos}");
        }

        private Lit Literal()
        {
            var value = new StringBuilder();
            while (_pos < text.Length && text[_pos] != '"')
            {
                var c = Char();
                value.Append(c <= char.MaxValue ? ((char)c).ToString() : char.ConvertFromUtf32(c));
            }

            Expect("\"");
            return new Lit(value.ToString());
        }

        private Cls Class()
        {
            var negated = _pos < text.Length && text[_pos] == '^';
            _pos += negated ? 1 : 0;
            var set = Chars.None;
            var any = false;
            while (_pos < text.Length && text[_pos] != ']')
            {
                var from = Char();
                var to = from;
                if (_pos + 1 < text.Length && text[_pos] == '-' && text[_pos + 1] != ']')
                {
                    _pos++;
                    to = Char();
                }

                set = set.Union(Chars.Range(from, to));
                any = true;
            }

            Expect("]");
            return any ? new Cls(negated ? set.Negate() : set) : throw Defect($"an empty character class ends at character {_pos}");
        }

        /// <summary>One character of a literal or class, with llama.cpp's escapes.</summary>
        private int Char()
        {
            if (text[_pos] != '\\')
            {
                if (char.IsSurrogatePair(text, _pos))
                {
                    _pos += 2;
                    return char.ConvertToUtf32(text[_pos - 2], text[_pos - 1]);
                }

                return char.IsSurrogate(text[_pos]) ? throw Defect($"a lone surrogate at character {_pos}") : text[_pos++];
            }

            if (_pos + 1 >= text.Length)
            {
                throw Defect("the grammar ends inside an escape");
            }

            var e = text[_pos + 1];
            _pos += 2;
            return e switch
            {
                'x' => Hex(2),
                'u' => Hex(4),
                'U' => Hex(8),
                't' => '\t',
                'r' => '\r',
                'n' => '\n',
                '\\' or '"' or '[' or ']' => e,
                _ => throw Defect($"unknown escape '\\{e}' at character {_pos - 2}"),
            };
        }

        private int Hex(int digits)
        {
            if (_pos + digits > text.Length || !int.TryParse(text.AsSpan(_pos, digits), System.Globalization.NumberStyles.AllowHexSpecifier, null, out var value)
                || value > 0x10FFFF)
            {
                throw Defect($"a bad hex escape at character {_pos}");
            }

            _pos += digits;
            return value;
        }

        private string Name()
        {
            var start = _pos;
            while (_pos < text.Length && IsWordChar(text[_pos]))
            {
                _pos++;
            }

            return _pos > start ? text[start.._pos] : throw Defect($"expected a rule name at character {_pos}");
        }

        private void Expect(string token)
        {
            if (string.CompareOrdinal(text, _pos, token, 0, token.Length) != 0)
            {
                throw Defect($"expected '{token}' at character {_pos}");
            }

            _pos += token.Length;
        }

        /// <summary>Skips blanks and comments; a newline ends a rule unless inside parentheses or after '|' (as in llama.cpp).</summary>
        private void Space(bool newlines)
        {
            while (_pos < text.Length)
            {
                var c = text[_pos];
                if (c is ' ' or '\t' || (newlines && c is '\r' or '\n'))
                {
                    _pos++;
                }
                else if (c == '#')
                {
                    while (_pos < text.Length && text[_pos] != '\n')
                    {
                        _pos++;
                    }
                }
                else
                {
                    return;
                }
            }
        }

        private static bool IsWordChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '_';
    }

    private static InvalidOperationException Defect(string why) => new("The generated grammar is malformed: " + why + ".");

    private static IEnumerable<Node> Walk(Node node)
    {
        var todo = new Stack<Node>([node]);
        while (todo.TryPop(out var n))
        {
            yield return n;
            foreach (var child in n switch { Seq s => s.Items, Alt a => a.Options, Rep r => [r.Item], _ => (Node[])[] })
            {
                todo.Push(child);
            }
        }
    }
}
