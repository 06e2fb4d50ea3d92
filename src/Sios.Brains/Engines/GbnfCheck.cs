namespace Sios.Brains.Engines;

/// <summary>Why <see cref="GbnfCheck"/> refused a grammar.</summary>
internal enum GbnfFault
{
    /// <summary>The grammar is within its budget and llama.cpp can run it.</summary>
    None,

    /// <summary>A rule can reach itself without consuming a character (llama.cpp refuses it, and LLamaSharp then crashes).</summary>
    LeftRecursion,

    /// <summary>A reachable rule matches no finite text: a recursion with no base case.</summary>
    NoBaseCase,

    /// <summary>Expanded, the grammar has more elements than allowed.</summary>
    TooLarge,

    /// <summary>More parse positions than allowed could be open at once.</summary>
    TooManyPaths,
}

/// <summary>What <see cref="GbnfCheck.Run"/> found: the fault (if any), the rules involved, and the grammar's measured cost.</summary>
internal sealed record GbnfReport(GbnfFault Fault, IReadOnlyList<string> Rules, long Elements, long Paths);

/// <summary>
/// Reads a GBNF grammar the way llama.cpp's parser does and checks it before it reaches native code: a grammar llama.cpp
/// would refuse must never get there (LLamaSharp adds the null sampler it gets back to the chain, and the process dies
/// in native code), and one it would accept must have a bounded cost. Syntax llama.cpp rejects, undefined rules, empty
/// alternatives and impossible repetitions are defects of the grammar's author (<see cref="InvalidOperationException"/>);
/// left recursion, rules without a base case, size and ambiguity are reported as a <see cref="GbnfFault"/>.
/// </summary>
/// <remarks>
/// The ambiguity measure bounds llama.cpp's grammar stacks. An alternation starts every option at once (their start
/// positions add up), but after its first characters only options that began alike are still open: options are
/// grouped by a shared literal prefix or, without one, by overlapping first characters, and the widest group counts.
/// A sequence is in one element at a time, so it counts its widest element. Computed as a least fixpoint, this stays
/// finite for recursion through alternatives that differ in their first characters (a tree of objects and arrays), and
/// grows without bound, so is refused, when a recursion is reached through alternatives that begin alike.
/// </remarks>
internal static partial class GbnfCheck
{
    /// <summary>llama.cpp's own ceiling on one repetition's count (MAX_REPETITION_THRESHOLD).</summary>
    private const int NativeRepetitionLimit = 2000;

    /// <summary>Checks <paramref name="gbnf"/> (root rule <c>root</c>) against the element and path budgets.</summary>
    /// <exception cref="InvalidOperationException">The text is not a grammar llama.cpp would parse.</exception>
    public static GbnfReport Run(string gbnf, long maxElements, long maxPaths)
    {
        var grammar = new Parser(gbnf).Parse();
        return new Analysis(grammar, maxPaths).Run(maxElements);
    }

    /// <summary>The checks, each a pass over the parsed grammar.</summary>
    private sealed class Analysis(Grammar grammar, long maxPaths)
    {
        private readonly int _count = grammar.Bodies.Count;
        private readonly long _cap = maxPaths + 1;
        private bool[] _nullable = [];
        private Chars[] _first = [];
        private string?[] _prefix = [];
        private long[] _starts = [];
        private long[] _paths = [];
        private int[] _order = [];

        public GbnfReport Run(long maxElements)
        {
            var root = grammar.Names.IndexOf("root");
            var elements = grammar.Bodies.Sum(Elements);
            if (elements > maxElements)
            {
                return new GbnfReport(GbnfFault.TooLarge, ["root"], elements, 0);
            }

            _order = UsesFirst();
            _nullable = new bool[_count];
            Fixpoint(r => Update(_nullable, r, Nullable(grammar.Bodies[r])));
            if (LeftRecursion() is { } cycle)
            {
                return new GbnfReport(GbnfFault.LeftRecursion, cycle, elements, 0);
            }

            // llama.cpp rewrites x* as "r ::= x r |", which is left-recursive when x can be empty.
            if (grammar.Bodies.SelectMany(Walk).OfType<Rep>().Any(r => r.Max < 0 && Nullable(r.Item)))
            {
                throw Defect("an unbounded repetition repeats something that can be empty");
            }

            var productive = new bool[_count];
            Fixpoint(r => Update(productive, r, Productive(grammar.Bodies[r], productive)));
            var dead = Reachable(root).Where(r => !productive[r]).Select(r => grammar.Names[r]).ToList();
            if (dead.Count > 0)
            {
                return new GbnfReport(GbnfFault.NoBaseCase, dead, elements, 0);
            }

            _first = new Chars[_count];
            Fixpoint(r => Update(_first, r, First(grammar.Bodies[r])));
            _prefix = new string?[_count];
            foreach (var alt in grammar.Bodies.SelectMany(Walk).OfType<Alt>())
            {
                alt.Group = Groups(alt);
            }

            _starts = new long[_count];
            Fixpoint(r => Update(_starts, r, Starts(grammar.Bodies[r])));
            _paths = new long[_count];
            Fixpoint(r => Update(_paths, r, Paths(grammar.Bodies[r])));
            var wide = Enumerable.Range(0, _count).Where(r => _paths[r] >= _cap).Select(r => grammar.Names[r]).ToList();
            return new GbnfReport(wide.Count > 0 ? GbnfFault.TooManyPaths : GbnfFault.None, wide, elements, _paths[root]);
        }

        /// <summary>Elements llama.cpp's parser builds: one per character, reference and alternative, and per repeat.</summary>
        private static long Elements(Node node) => node switch
        {
            Lit l => Math.Max(1, l.Text.Length),
            Cls => 2,
            Ref => 1,
            Seq s => s.Items.Sum(Elements),
            Alt a => a.Options.Sum(Elements) + a.Options.Length,
            Rep r => Elements(r.Item) + (3L * Math.Max(r.Min, Math.Max(r.Max, 1))),
            _ => throw new InvalidOperationException("unknown node"),
        };

        /// <summary>Re-evaluates rules until nothing changes; <paramref name="update"/> returns whether the rule's value changed.</summary>
        private void Fixpoint(Func<int, bool> update)
        {
            var users = Enumerable.Range(0, _count).Select(_ => new List<int>()).ToArray();
            for (var r = 0; r < _count; r++)
            {
                foreach (var used in Walk(grammar.Bodies[r]).OfType<Ref>().Select(x => x.Rule).Distinct())
                {
                    users[used].Add(r);
                }
            }

            // Rules a rule uses come before it, so a grammar without recursion settles in one pass.
            var queued = new bool[_count];
            var work = new Queue<int>();
            foreach (var r in _order)
            {
                work.Enqueue(r);
                queued[r] = true;
            }

            while (work.TryDequeue(out var r))
            {
                queued[r] = false;
                if (!update(r))
                {
                    continue;
                }

                foreach (var user in users[r].Where(u => !queued[u]))
                {
                    queued[user] = true;
                    work.Enqueue(user);
                }
            }
        }

        /// <summary>Every rule, each after the rules it uses (in a cycle, in the order met).</summary>
        private int[] UsesFirst()
        {
            var order = new List<int>(_count);
            var seen = new bool[_count];
            for (var start = 0; start < _count; start++)
            {
                if (seen[start])
                {
                    continue;
                }

                // An explicit stack: a long chain of rules must not exhaust the thread's own.
                seen[start] = true;
                var stack = new Stack<(int Rule, IEnumerator<int> Uses)>();
                stack.Push((start, Uses(start).GetEnumerator()));
                while (stack.TryPeek(out var top))
                {
                    if (top.Uses.MoveNext())
                    {
                        if (!seen[top.Uses.Current])
                        {
                            seen[top.Uses.Current] = true;
                            stack.Push((top.Uses.Current, Uses(top.Uses.Current).GetEnumerator()));
                        }
                    }
                    else
                    {
                        order.Add(stack.Pop().Rule);
                    }
                }
            }

            return [.. order];
        }

        private IEnumerable<int> Uses(int rule) => Walk(grammar.Bodies[rule]).OfType<Ref>().Select(r => r.Rule);

        private static bool Update<T>(T[] values, int rule, T value)
        {
            if (EqualityComparer<T>.Default.Equals(values[rule], value))
            {
                return false;
            }

            values[rule] = value;
            return true;
        }

        private bool Nullable(Node node) => node switch
        {
            Lit l => l.Text.Length == 0,
            Cls => false,
            Ref r => _nullable[r.Rule],
            Seq s => s.Items.All(Nullable),
            Alt a => a.Options.Any(Nullable),
            Rep r => r.Min == 0 || Nullable(r.Item),
            _ => throw new InvalidOperationException("unknown node"),
        };

        private static bool Productive(Node node, bool[] productive) => node switch
        {
            Lit or Cls => true,
            Ref r => productive[r.Rule],
            Seq s => s.Items.All(i => Productive(i, productive)),
            Alt a => a.Options.Any(o => Productive(o, productive)),
            Rep r => r.Min == 0 || Productive(r.Item, productive),
            _ => throw new InvalidOperationException("unknown node"),
        };

        /// <summary>A cycle of rules that reach each other before consuming a character, or null.</summary>
        private List<string>? LeftRecursion()
        {
            var edges = new List<int>[_count];
            for (var r = 0; r < _count; r++)
            {
                edges[r] = [];
                Leading(grammar.Bodies[r], edges[r]);
            }

            var state = new byte[_count];
            var path = new List<int>();
            for (var r = 0; r < _count; r++)
            {
                if (state[r] == 0 && Cycle(r, edges, state, path) is { } cycle)
                {
                    return [.. cycle.Select(i => grammar.Names[i])];
                }
            }

            return null;
        }

        private static List<int>? Cycle(int rule, List<int>[] edges, byte[] state, List<int> path)
        {
            state[rule] = 1;
            path.Add(rule);
            foreach (var next in edges[rule])
            {
                if (state[next] == 1)
                {
                    return path[path.IndexOf(next)..];
                }

                if (state[next] == 0 && Cycle(next, edges, state, path) is { } found)
                {
                    return found;
                }
            }

            path.RemoveAt(path.Count - 1);
            state[rule] = 2;
            return null;
        }

        /// <summary>Adds the rules <paramref name="node"/> can start with, before consuming a character.</summary>
        private void Leading(Node node, List<int> edges)
        {
            switch (node)
            {
                case Ref r:
                    edges.Add(r.Rule);
                    break;
                case Seq s:
                    foreach (var item in s.Items)
                    {
                        Leading(item, edges);
                        if (!Nullable(item))
                        {
                            break;
                        }
                    }

                    break;
                case Alt a:
                    foreach (var option in a.Options)
                    {
                        Leading(option, edges);
                    }

                    break;
                case Rep r:
                    Leading(r.Item, edges);
                    break;
            }
        }

        private HashSet<int> Reachable(int root)
        {
            var seen = new HashSet<int> { root };
            var todo = new Stack<int>([root]);
            while (todo.TryPop(out var r))
            {
                foreach (var used in Walk(grammar.Bodies[r]).OfType<Ref>().Where(x => seen.Add(x.Rule)))
                {
                    todo.Push(used.Rule);
                }
            }

            return seen;
        }

        private Chars First(Node node)
        {
            switch (node)
            {
                case Lit l:
                    return l.Text.Length == 0 ? Chars.None : Chars.Of(l.Text[0]);
                case Cls c:
                    return c.Chars;
                case Ref r:
                    return _first[r.Rule];
                case Seq s:
                    var set = Chars.None;
                    foreach (var item in s.Items)
                    {
                        set = set.Union(First(item));
                        if (!Nullable(item))
                        {
                            break;
                        }
                    }

                    return set;
                case Alt a:
                    return a.Options.Aggregate(Chars.None, (all, o) => all.Union(First(o)));
                case Rep r:
                    return First(r.Item);
                default:
                    throw new InvalidOperationException("unknown node");
            }
        }

        /// <summary>
        /// Text every match of <paramref name="node"/> begins with, followed through single-alternative rules only (so the
        /// node is one parse position until the text is consumed); empty when there is none.
        /// </summary>
        private string Prefix(Node node) => node switch
        {
            Lit l => l.Text,
            Ref r => _prefix[r.Rule] ??= grammar.Bodies[r.Rule] is Alt ? "" : Prefix(grammar.Bodies[r.Rule]),
            Seq { Items: [Lit, ..] } s => string.Concat(s.Items.TakeWhile(i => i is Lit).Cast<Lit>().Select(l => l.Text)),
            Seq s => Prefix(s.Items[0]),
            _ => "",
        };

        /// <summary>Groups the options of <paramref name="alt"/> that may stay open together past their first character.</summary>
        private int[] Groups(Alt alt)
        {
            var n = alt.Options.Length;
            var parent = Enumerable.Range(0, n).ToArray();
            int Find(int i) => parent[i] == i ? i : parent[i] = Find(parent[i]);
            void Join(int a, int b) => parent[Find(a)] = Find(b);

            var prefixes = alt.Options.Select(Prefix).ToArray();

            // Options with a literal prefix stay open together only while one prefix begins the other.
            var open = new Stack<int>();
            foreach (var i in Enumerable.Range(0, n).Where(i => prefixes[i].Length > 0).OrderBy(i => prefixes[i], StringComparer.Ordinal))
            {
                while (open.Count > 0 && !prefixes[i].StartsWith(prefixes[open.Peek()], StringComparison.Ordinal))
                {
                    open.Pop();
                }

                if (open.Count > 0)
                {
                    Join(i, open.Peek());
                }

                open.Push(i);
            }

            // Options without one are grouped with every option whose first characters overlap theirs.
            var owner = Enumerable.Repeat(-1, Chars.Buckets).ToArray();
            var firsts = alt.Options.Select(First).ToArray();
            foreach (var i in Enumerable.Range(0, n).Where(i => prefixes[i].Length == 0))
            {
                for (var b = 0; b < Chars.Buckets; b++)
                {
                    if (firsts[i].Has(b))
                    {
                        if (owner[b] >= 0)
                        {
                            Join(i, owner[b]);
                        }

                        owner[b] = i;
                    }
                }
            }

            foreach (var i in Enumerable.Range(0, n).Where(i => prefixes[i].Length > 0))
            {
                var b = Math.Min((int)prefixes[i][0], 128);
                if (owner[b] >= 0)
                {
                    Join(i, owner[b]);
                }
            }

            return [.. Enumerable.Range(0, n).Select(Find)];
        }

        /// <summary>Parse positions open before <paramref name="node"/> consumes anything.</summary>
        private long Starts(Node node)
        {
            switch (node)
            {
                case Lit l:
                    return l.Text.Length == 0 ? 0 : 1;
                case Cls:
                    return 1;
                case Ref r:
                    return _starts[r.Rule];
                case Seq s:
                    long sum = 0;
                    foreach (var item in s.Items)
                    {
                        sum = Sat(sum + Starts(item));
                        if (!Nullable(item))
                        {
                            break;
                        }
                    }

                    return sum;
                case Alt a:
                    return Sat(a.Options.Sum(Starts));
                case Rep r:
                    return Sat(Starts(r.Item) * (Nullable(r.Item) ? Math.Max(1, r.Max) : 1));
                default:
                    throw new InvalidOperationException("unknown node");
            }
        }

        /// <summary>Parse positions open at once anywhere inside <paramref name="node"/> (see the type's remarks).</summary>
        private long Paths(Node node)
        {
            switch (node)
            {
                case Lit or Cls:
                    return Starts(node);
                case Ref r:
                    return _paths[r.Rule];
                case Seq s:
                    return Math.Max(Starts(s), s.Items.Max(Paths));
                case Rep r:
                    return Math.Max(Starts(r), Paths(r.Item));
                case Alt a:
                    var groups = new Dictionary<int, long>();
                    for (var i = 0; i < a.Options.Length; i++)
                    {
                        groups[a.Group[i]] = Sat(groups.GetValueOrDefault(a.Group[i]) + Paths(a.Options[i]));
                    }

                    return Math.Max(Starts(a), groups.Values.Max());
                default:
                    throw new InvalidOperationException("unknown node");
            }
        }

        private long Sat(long value) => Math.Min(value, _cap);
    }
}
