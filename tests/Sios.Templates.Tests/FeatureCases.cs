using System.Text.Json.Nodes;

namespace Sios.Templates.Tests;

/// <summary>
/// Small templates, one language feature or quirk each, compared with the reference like the vector templates
/// (where the reference fails, ours must fail too).
/// </summary>
internal static class FeatureCases
{
    private const string Messages = """
        {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"},
                      {"role": "assistant", "content": "Hello!"}, {"role": "user", "content": "Bye"}],
         "d": {"b": 1, "a": [1, 2.5, "x", null, true], "2": "two", "10": "ten", "1": "one", "c": {"k": "v"}},
         "n": 5, "f": 1.5, "whole": 2.0, "s": "Hello World", "empty": "", "list": [3, 1, 2], "none_value": null}
        """;

    private static readonly (string Name, string Template, string Variables)[] Raw =
    [
        // Whitespace: trim_blocks and lstrip_blocks are on; '-' trims; a final newline is dropped.
        ("text_only", "Hello, world!\n", "{}"),
        ("trailing_newlines", "a\n\n", "{}"),
        ("trim_blocks", "{% if true %}\n  yes\n{% endif %}\nafter\n", "{}"),
        ("lstrip_blocks", "line1\n    {% set x = 1 %}\nline2\n\t{# note #}\nline3", "{}"),
        ("lstrip_not_after_text", "a  {% if true %}b{% endif %}", "{}"),
        ("dash_control", "  x  {%- if true -%}  y  {%- endif -%}  z  ", "{}"),
        ("expression_dash", "a {{- 'b' -}} c {{ 'd' }}\n{{ 'e' }}\n", "{}"),
        ("comment_dash", "a {#- note -#} b {# kept #} c", "{}"),
        ("comment_then_text", "{# c #}\nx", "{}"),
        ("crlf", "a\r\n  {% if true %}\r\nb\r\n{% endif %}\r\nc", "{}"),
        ("lstrip_brace_dash_quirk", "x\n  {-y}\n  {%- if true %}z{% endif %}", "{}"),
        ("generation_tags", "A {% generation %}B{% endgeneration %} C\n{%- generation -%}  D  {%- endgeneration %}\nE", "{}"),
        ("generation_in_loop", "{% for m in messages %}{% if m.role == 'assistant' %}{% generation %}{{ m.content }}{% endgeneration %}{% else %}{{ m.content }}{% endif %}|{% endfor %}", Messages),
        ("unicode_whitespace_trim", "a\u00A0\u3000 {%- if true %}b{% endif %}", "{}"),

        // Printing values.
        ("print_scalars", "{{ 1 }}|{{ 1.0 }}|{{ 1.5 }}|{{ -0.0 }}|{{ -0 }}|{{ true }}|{{ false }}|{{ none }}|{{ undefined_thing }}|{{ 'x' }}", "{}"),
        ("print_json_numbers", "{{ n }}|{{ f }}|{{ whole }}|{{ big }}|{{ tiny }}|{{ neg }}|{{ huge }}", """{"n": 5, "f": 1.5, "whole": 2.0, "big": 1e21, "tiny": 1e-7, "neg": -3, "huge": 123456789012345678901234567890}"""),
        ("print_containers", "{{ [1, 1.0, 'a', none, true, x, [2], {'k': 'v'}] }}|{{ {'a': 1, 'b': [1.5]} }}|{{ [] }}|{{ {} }}", "{}"),
        ("print_dict_key_order", "{{ d }}", Messages),
        ("print_tuple_fails", "{{ (1, 2) }}", "{}"),
        ("print_float_math", "{{ 0.1 + 0.2 }}|{{ 1 / 3 }}|{{ 10 / 2 }}|{{ 2 ** -1 }}|{{ 7 // 2 }}|{{ -7 // 2 }}|{{ 7 % 3 }}|{{ -7 % 3 }}|{{ 7.5 % 2 }}", "{}"),
        ("print_division_by_zero", "{{ 1 / 0 }}|{{ -1 / 0 }}|{{ 0 / 0 }}|{{ 1 // 0 }}|{{ 5 % 0 }}", "{}"),
        ("print_large_float", "{{ 2.0 ** 70 }}|{{ 2 ** 70 }}|{{ 1.7976931348623157 * 10.0 ** 308 * 10.0 }}|{{ 0.000001 }}|{{ 0.0000001 }}|{{ 123456789.125 }}", "{}"),
        ("print_namespace", "{% set ns = namespace(a=1, b='x') %}{{ ns }}|{{ ns.a }}|{{ ns.missing }}", "{}"),
        ("print_loop_object", "{% for x in [1, 2] %}{{ loop }}{% endfor %}", "{}"),

        // Literals and the lexer.
        ("string_escapes", "{{ 'a\\nb\\tc\\\\d\\'e\"f' }}|{{ \"\\x41\\u00e9\" }}|{{ 'ab' 'cd' }}", "{}"),
        ("bad_escape_fails", "{{ '\\q' }}", "{}"),
        ("unterminated_string_fails", "{{ 'abc }}", "{}"),
        ("numbers_lexing", "{{ 007 }}|{{ 1.50 }}|{{ [-1, +2, - 3] }}|{{ 3 -1 }}|{{ 2*-1 }}", "{}"),
        ("dict_literal_braces", "{{ {'a': {'b': 1}} }}|{% set x = {'k': {'n': 2}} %}{{ x.k.n }}", "{}"),
        ("dict_literal_duplicate_key", "{{ {'a': 1, 'b': 2, 'a': 3} }}", "{}"),
        ("dict_literal_int_key_fails", "{{ {1: 2} }}", "{}"),
        ("list_without_commas", "{{ [1 2 3] }}", "{}"),
        ("call_without_commas", "{{ 'a-b-c'.split('-' 1) }}", "{}"),
        ("empty_tuple_fails", "{{ () }}", "{}"),
        ("trailing_comma_tuple_fails", "{% set t = (1,) %}{{ t }}", "{}"),
        ("true_false_case", "{{ True }}|{{ False }}|{{ None }}|{{ TRUE }}", "{}"),

        // Operators.
        ("precedence", "{{ 1 + 2 * 3 }}|{{ (1 + 2) * 3 }}|{{ 2 ** 3 ** 2 }}|{{ 10 - 2 - 3 }}|{{ not true or true }}|{{ not (true and false) }}", "{}"),
        ("unary_before_filter", "{{ -3|abs }}|{{ -(3|abs) }}|{{ - -3 }}|{{ -true }}|{{ +false }}", "{}"),
        ("and_or_values", "{{ 0 or 'x' }}|{{ 'a' and 'b' }}|{{ [] or {} }}|{{ none or [] }}|{{ '' and 1 }}", "{}"),
        ("string_concat", "{{ 'a' + 'b' }}|{{ 'a' + 1 }}|{{ 1 + 'a' }}|{{ 'a' ~ 1 ~ 1.0 ~ 1.5 ~ true }}|{{ [1, 'b'] ~ 'c' }}|{{ {'a': 1} ~ '' }}|{{ 'x' + [1, 2] }}", "{}"),
        ("concat_undefined_fails", "{{ 'a' ~ nothing }}", "{}"),
        ("concat_none_fails", "{{ 'a' ~ none }}", "{}"),
        ("list_concat", "{{ [1] + [2, 3] }}|{{ (list + [4])|length }}", Messages),
        ("comparisons", "{{ 1 < 2 }}|{{ 2 <= 1.5 }}|{{ 3 > 2 }}|{{ 1 >= 1.0 }}|{{ 1 == 1.0 }}|{{ 1 != 2 }}", "{}"),
        ("string_comparison_fails", "{{ 'a' < 'b' }}", "{}"),
        ("loose_equality", "{{ '1' == 1 }}|{{ true == 1 }}|{{ '' == 0 }}|{{ none == nothing }}|{{ none == false }}|{{ [1] == '1' }}|{{ [1, 2] == '1,2' }}|{{ {} == '[object Map]' }}|{{ list == list }}|{{ [1] == [1] }}|{{ ' 2 ' == 2 }}|{{ '0x10' == 16 }}", Messages),
        ("membership", "{{ 1 in [1, 2] }}|{{ 1.0 in [1] }}|{{ '1' in [1] }}|{{ 'a' in 'cat' }}|{{ 'a' not in 'cat' }}|{{ 'b' in d }}|{{ 'z' not in d }}|{{ 'x' in nothing }}|{{ 'x' not in nothing }}", Messages),
        ("membership_list_in_list_fails", "{{ [1] in [[1]] }}", "{}"),
        ("membership_none_fails", "{{ none in [none] }}", "{}"),
        ("membership_number_in_string_fails", "{{ 1 in 'a1' }}", "{}"),
        ("membership_chain_quirk", "{{ 'a' in 'apple' == true }}", "{}"),
        ("power_rules", "{{ 2 ** 10 }}|{{ 2 ** 0.5 }}|{{ true ** 2 }}|{{ 4 ** -1 }}|{{ 2.0 ** 2 }}", "{}"),
        ("power_zero_negative_fails", "{{ 0 ** -1 }}", "{}"),
        ("ternary", "{{ 'y' if true else 'n' }}|{{ 'y' if false else 'n' }}|{{ 'a' if false else 'b' if false else 'c' }}|[{{ 'only' if false }}]", "{}"),
        ("not_in_precedence", "{{ not 'a' in 'abc' }}|{{ not 1 == 2 }}", "{}"),
        ("test_vs_multiplication_fails", "{{ 4 * 4 is odd }}|{{ (3 is odd) and 1 }}", "{}"),
        ("binary_minus_after_identifier", "{% set a = 5 %}{{ a -1 }}|{{ a - -1 }}|{{ [a][0] -1 }}", "{}"),

        // Member access and slicing.
        ("member_access", "{{ messages[0].role }}|{{ messages[-1]['content'] }}|{{ d.c.k }}|{{ d['b'] }}|{{ s[0] }}|{{ s[-1] }}|{{ s.length }}|{{ list.length }}|{{ messages[10] }}|{{ d.nope }}", Messages),
        ("member_on_undefined", "{{ nothing.attr }}|{{ nothing.a.b }}|{{ none_value.x }}|{{ n.x }}|{{ nothing['k'] }}", Messages),
        ("index_on_undefined_fails", "{{ nothing[0] }}", "{}"),
        ("index_dict_with_int_fails", "{{ d[1] }}", Messages),
        ("float_index_fails", "{{ list[1.0] }}", Messages),
        ("dot_integer", "{{ list.0 }}|{{ messages.1.content }}", Messages),
        ("dict_builtin_shadowing", "{{ x.items }}|{{ y.items() }}", """{"x": {"items": "mine"}, "y": {"a": 1}}"""),
        ("slicing", "{{ list[1:] }}|{{ list[:-1] }}|{{ list[::-1] }}|{{ list[::2] }}|{{ list[-2:] }}|{{ list[5:] }}|{{ list[1:2:0] }}|{{ list[:] }}|{{ list[::] }}|{{ list[2:0:-1] }}", Messages),
        ("string_slicing", "{{ s[:5] }}|{{ s[::-1] }}|{{ e[1:] }}|{{ e[::-1] }}|{{ e[1] }}|{{ e|length }}", """{"s": "Hello World", "e": "a😀b"}"""),
        ("slice_bad_bound_fails", "{{ list[none:1] }}", Messages),
        ("slice_number_fails", "{{ n[1:] }}", Messages),

        // Variables from JSON.
        ("json_key_order", "{{ d|tojson }}|{% for k in d %}{{ k }},{% endfor %}|{{ d.keys() }}", Messages),
        ("json_integral_float", "{{ whole }}|{{ whole is integer }}|{{ f is integer }}|{{ whole|string }}", Messages),
        ("undefined_variables", "[{{ missing }}]{% if missing %}yes{% else %}no{% endif %}|{{ missing is defined }}|{{ missing is undefined }}|{{ missing|default('dflt') }}|{{ none_value|default('dflt') }}|{{ empty|default('dflt', true) }}|{{ empty|default('dflt', boolean=true) }}", Messages),
        ("default_without_parens_fails", "{{ missing|default }}", "{}"),
        ("reserved_variable_fails", "{{ range }}", """{"range": 1}"""),
    ];

    public static IReadOnlyList<RenderCase> All { get; } =
        [.. Raw.Concat(MoreFeatureCases.Raw).Select(r => new RenderCase("feature:" + r.Name, r.Template, JsonNode.Parse(r.Variables)!.AsObject()))];
}
