namespace Sios.Templates.Tests;

/// <summary>Feature cases for statements, macros, filters, tests, methods, tojson and errors.</summary>
internal static class MoreFeatureCases
{
    private const string Data = """
        {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"},
                      {"role": "assistant", "content": "Hello!"}, {"role": "user", "content": "Bye"}],
         "d": {"b": 1, "a": [1, 2.5, "x", null, true], "2": "two", "1": "one", "c": {"k": "v"}},
         "words": ["banana", "Apple", "cherry", "apple"], "nums": [3, 1, 2, 1.5, true],
         "people": [{"name": "Ann", "age": 30, "tags": ["x"], "info": {"city": "Oslo"}}, {"name": "bob", "age": 25, "active": true},
                    {"name": "Cid", "age": 35, "active": false, "info": {"city": "Rome"}}],
         "s": "  Hello World  ", "u": "straße ΣΑΣ İx ǆ ŉ", "text": "line1\nline2\n\nline4",
         "tools": [{"type": "function", "function": {"name": "f", "description": "Dé \u0001 \"q\" <b> \u2028 😀",
                    "parameters": {"type": "object", "properties": {"Zeta": {"type": "string"}, "alpha": {"type": "integer"}, "_x": {}, "-y": {}, "B": {}}}}}]}
        """;

    public static readonly (string Name, string Template, string Variables)[] Raw =
    [
        // for loops.
        ("loop_variables", "{% for m in messages %}{{ loop.index }}/{{ loop.index0 }}/{{ loop.revindex }}/{{ loop.revindex0 }}/{{ loop.first }}/{{ loop.last }}/{{ loop.length }}/{{ loop.previtem.role if loop.previtem is defined else '-' }}/{{ loop.nextitem.role if loop.nextitem is defined else '-' }};{% endfor %}", Data),
        ("loop_else", "{% for x in [] %}x{% else %}empty{% endfor %}|{% for x in [1] %}{{ x }}{% else %}empty{% endfor %}", "{}"),
        ("loop_filter", "{% for m in messages if m.role != 'system' %}{{ loop.index }}:{{ m.role }}{{ ',' if not loop.last }}{% endfor %}", Data),
        ("loop_filter_else", "{% for x in [1, 2] if x > 5 %}{{ x }}{% else %}none passed{% endfor %}", "{}"),
        ("loop_break_drops_iteration", "{% for x in [1, 2, 3] %}[{{ x }}{% if x == 2 %}{% break %}{% endif %}]{% endfor %}", "{}"),
        ("loop_continue_drops_iteration", "{% for x in [1, 2, 3] %}[{{ x }}{% if x == 2 %}{% continue %}{% endif %}]{% endfor %}", "{}"),
        ("loop_all_continue_runs_else", "{% for x in [1, 2] %}{% continue %}{% else %}else-ran{% endfor %}", "{}"),
        ("loop_break_first_runs_else", "{% for x in [1, 2] %}{% break %}{% else %}else-ran{% endfor %}", "{}"),
        ("loop_tuple_unpacking", "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}|{% for a, b in [[1, 2], [3, 4]] %}{{ a + b }}{% endfor %}", Data),
        ("loop_tuple_of_tuples_fails", "{% for a, b in [(1, 2)] %}{{ a }}{% endfor %}", "{}"),
        ("loop_unpack_wrong_length_fails", "{% for a, b in [[1, 2, 3]] %}{{ a }}{% endfor %}", "{}"),
        ("loop_over_dict", "{% for k in {'z': 1, 'a': 2} %}{{ k }}{% endfor %}", "{}"),
        ("loop_over_string_fails", "{% for c in 'abc' %}{{ c }}{% endfor %}", "{}"),
        ("loop_over_undefined_fails", "{% for c in nothing %}{{ c }}{% endfor %}", "{}"),
        ("loop_nested", "{% for a in [1, 2] %}{% for b in ['x', 'y'] %}{{ a }}{{ b }}{{ loop.index }}{% endfor %}{{ loop.index }};{% endfor %}", "{}"),
        ("loop_scope", "{% set x = 'outer' %}{% for i in [1, 2] %}{% set x = 'inner' ~ i %}{% set y = (y or 0) + 1 %}{{ x }}{{ y }}{% endfor %}|{{ x }}|{{ y }}|{{ i }}", "{}"),
        ("loop_namespace_carry", "{% set ns = namespace(count=0, last=none) %}{% for m in messages %}{% set ns.count = ns.count + 1 %}{% set ns.last = m.role %}{% endfor %}{{ ns.count }} {{ ns.last }}", Data),
        ("loop_break_outside_fails", "{% break %}", "{}"),
        ("range_forms", "{{ range(3) }}|{{ range(1, 4) }}|{{ range(0, 10, 3) }}|{{ range(5, 0, -2) }}|{{ range(0) }}|{{ range(0.5, 3) }}|{% for i in range(2) %}{{ i }}{% endfor %}", "{}"),
        ("range_zero_step_fails", "{{ range(1, 5, 0) }}", "{}"),

        // set and namespace.
        ("set_forms", "{% set x = 1 %}{% set a, b = 1, 2 %}{% set t = 1, 2 %}{{ x }}{{ a }}{{ b }}|{{ t|length }}|{% set block %}B{{ x }}{% endset %}{{ block }}|{% if true %}{% set inner = 'i' %}{% endif %}{{ inner }}", "{}"),
        ("set_unpack_wrong_count_fails", "{% set a, b = [1] %}", "{}"),
        ("set_attribute_on_dict_fails", "{% set d.x = 1 %}", Data),
        ("set_select_expression", "{% set x = 'yes' if false %}[{{ x }}]{{ x is defined }}", "{}"),
        ("namespace_forms", "{% set a = namespace(x=1) %}{% set b = namespace({'y': 2}) %}{% set c = namespace([['z', 3]], w=4) %}{{ a.x }}{{ b.y }}{{ c.z }}{{ c.w }}|{{ a is mapping }}|{{ 'yes' if namespace() }}", "{}"),
        ("namespace_copies_dict", "{% set src = {'k': 1} %}{% set ns = namespace(src) %}{% set ns.k = 2 %}{{ src.k }}{{ ns.k }}", "{}"),
        ("namespace_item_assignment_fails", "{% set ns = namespace(a=1) %}{% set ns['a'] = 2 %}{{ ns.a }}", "{}"),
        ("namespace_length_fails", "{{ namespace(a=1)|length }}", "{}"),

        // Macros and call blocks.
        ("macro_defaults", "{% macro greet(name, greeting='Hello', punct='!') %}{{ greeting }}, {{ name }}{{ punct }}{% endmacro %}{{ greet('Ann') }}|{{ greet('Bob', 'Hi') }}|{{ greet('Cy', punct='?') }}|{{ greet() }}", "{}"),
        ("macro_kwargs_varargs", "{% macro m(a) %}{{ a }}|{{ varargs }}|{{ kwargs }}{% endmacro %}{{ m(1, 2, 3, x=4, y='z') }}", "{}"),
        ("macro_extra_argument_fails", "{% macro m(a) %}{{ a }}{% endmacro %}{{ m(1, 2) }}", "{}"),
        ("macro_unknown_keyword_fails", "{% macro m(a) %}{{ a }}{% endmacro %}{{ m(b=1) }}", "{}"),
        ("macro_dynamic_scope", "{% macro show() %}{{ secret }}{% endmacro %}{% set secret = 'top' %}{{ show() }}|{% for secret in ['loop'] %}{{ show() }}{% endfor %}", "{}"),
        ("macro_default_sees_params", "{% macro m(a, b=a ~ '!') %}{{ b }}{% endmacro %}{{ m('x') }}", "{}"),
        ("macro_recursion", "{% macro fact(n) %}{% if n <= 1 %}1{% else %}{{ n }}*{{ fact(n - 1) }}{% endif %}{% endmacro %}{{ fact(5) }}", "{}"),
        ("macro_render_json_schema", "{% macro render(v, depth=0) %}{% if v is mapping %}{% for k, x in v.items() %}{{ ' ' * 0 if false }}{{ k }}:{{ render(x, depth + 1) }};{% endfor %}{% elif v is iterable and v is not string %}[{% for x in v %}{{ render(x, depth + 1) }}{% endfor %}]{% else %}{{ v }}{% endif %}{% endmacro %}{{ render(tools[0].function.parameters) }}", Data),
        ("macro_returns_string", "{% macro m() %}  x  {% endmacro %}[{{ m() }}]|{{ m()|trim }}|{{ m() is string }}", "{}"),
        ("macro_is_callable", "{% macro m() %}{% endmacro %}{{ m is callable }}|{{ range is callable }}|{{ 'x' is callable }}", "{}"),
        ("call_block", "{% macro wrap(tag) %}<{{ tag }}>{{ caller() }}</{{ tag }}>{% endmacro %}{% call wrap('b') %}bold {{ 1 + 1 }}{% endcall %}", "{}"),
        ("call_block_with_args", "{% macro each(items) %}{% for i in items %}{{ caller(i) }}{% endfor %}{% endmacro %}{% call(x) each([1, 2]) %}<{{ x }}>{% endcall %}", "{}"),
        ("filter_block", "{% filter upper %}hello {{ 'world' }}{% endfilter %}|{% filter replace('a', 'o') %}banana{% endfilter %}", "{}"),
        ("break_inside_macro_breaks_loop", "{% macro stop() %}{% break %}{% endmacro %}{% for x in [1, 2, 3] %}{{ x }}{% if x == 2 %}{{ stop() }}{% endif %}{% endfor %}", "{}"),

        // Filters.
        ("filters_strings", "{{ s|trim }}|{{ s|upper }}|{{ s|lower }}|{{ 'hello wORLD foo_bar'|title }}|{{ 'hELLO'|capitalize }}|{{ s|length }}|{{ 'a,b'|replace(',', ';') }}|{{ 'aaa'|replace('a', 'b', 2) }}|{{ s|string }}|{{ s|safe }}", Data),
        ("filters_numbers", "{{ -3|abs }}|{{ -2.5|abs }}|{{ 3.7|int }}|{{ -3.7|int }}|{{ 3|float }}|{{ '42abc'|int }}|{{ 'x'|int }}|{{ '3.5e2x'|float }}|{{ ' 12'|int }}|{{ 'x'|int(7) }}|{{ 'x'|float(default=1.5) }}|{{ 2.5|int(0) }}|{{ true|int }}|{{ 1|string }}|{{ 1.0|string }}", "{}"),
        ("filters_lists", "{{ nums|first }}|{{ nums|last }}|{{ nums|length }}|{{ nums|reverse }}|{{ words|sort }}|{{ words|sort(reverse=true) }}|{{ words|sort(case_sensitive=true) }}|{{ nums|unique }}|{{ ['a', 'b']|join }}|{{ ['a', 1, none, true, 1.0]|join(', ') }}|{{ words|list }}|{{ nums|string }}", Data),
        ("filter_sort_attribute", "{{ people|sort(attribute='age')|map(attribute='name')|join(',') }}|{{ people|sort(attribute='name')|map(attribute='name')|join(',') }}", Data),
        ("filter_sort_missing_attribute_fails", "{{ people|sort(attribute='info.city', reverse=true)|map(attribute='name')|join(',') }}", Data),
        ("filter_sort_mixed_fails", "{{ [1, 'a']|sort }}", "{}"),
        ("filter_first_of_empty_fails", "{{ []|first }}", "{}"),
        ("filter_first_of_empty_set", "{% set x = []|first %}[{{ x }}]{{ x is defined }}", "{}"),
        ("filter_selectattr", "{{ people|selectattr('active')|map(attribute='name')|join(',') }}|{{ people|rejectattr('active')|map(attribute='name')|join(',') }}|{{ people|selectattr('name', 'equalto', 'bob')|length }}|{{ messages|selectattr('role', 'eq', 'user')|list|length }}|{{ people|selectattr('info', 'defined')|length }}", Data),
        ("filter_selectattr_non_literal_fails", "{% set k = 'name' %}{{ people|selectattr(k)|list }}", Data),
        ("filter_selectattr_unknown_test_fails", "{{ people|selectattr('name', 'sameas', 'x')|list }}", Data),
        ("filter_map", "{{ people|map(attribute='name')|list }}|{{ people|map(attribute='info.city', default='?')|join(',') }}|{{ people|map(attribute='tags.0')|list }}", Data),
        ("filter_map_positional_fails", "{{ words|map('upper')|list }}", Data),
        ("filter_dict", "{{ d|items|length }}|{{ d|length }}|{{ d|dictsort }}|{{ {'b': 1, 'A': 2, 'a': 0}|dictsort }}|{{ {'b': 1, 'A': 2, 'a': 0}|dictsort(true) }}|{{ {'x': 2, 'y': 1}|dictsort(by='value') }}|{{ {'x': 2, 'y': 1}|dictsort(reverse=true) }}|{{ d|keys }}", Data),
        ("filter_indent", "{{ text|indent }}|{{ text|indent(2) }}|{{ text|indent(2, true) }}|{{ text|indent(width=3, first=true, blank=true) }}|{{ text|indent(1, [], 0) }}", Data),
        ("filter_join_string", "{{ 'abc'|join('-') }}|{{ 'a😀b'|join('.') }}|{{ 'abc'|join }}", "{}"),
        ("filter_default_forms", "{{ x|default('a') }}|{{ none|default('a') }}|{{ 0|default('a', true) }}|{{ 'v'|default('a') }}", "{}"),
        ("filter_unknown_fails", "{{ 'x'|from_json }}", "{}"),
        ("filter_unknown_unreached", "{% if false %}{{ 'x'|from_json }}{{ x|reject('none') }}{{ [1]|min }}{% endif %}ok", "{}"),
        ("filter_on_none_fails", "{{ none|string }}", "{}"),
        ("filter_on_undefined_fails", "{{ nothing|length }}", "{}"),
        ("filter_bool", "{{ true|bool }}|{{ false|string }}|{{ true|float }}", "{}"),
        ("filter_dict_string_fails", "{{ d|string }}", Data),
        ("filter_items_call_form", "{{ d|items() }}", Data),
        ("filter_chain", "{{ messages|map(attribute='role')|unique|join(',')|upper }}", Data),

        // Tests.
        ("tests_types", "{{ 1 is number }}{{ 1.5 is number }}{{ 1 is integer }}{{ 1.5 is integer }}{{ 'a' is string }}{{ true is boolean }}{{ none is none }}{{ d is mapping }}{{ [] is mapping }}{{ [] is iterable }}{{ 'a' is iterable }}{{ d is iterable }}{{ (1, 2) is iterable }}{{ (1, 2) is sequence }}{{ d is sequence }}{{ 1 is sequence }}", Data),
        ("tests_values", "{{ 3 is odd }}{{ 4 is even }}{{ -3 is odd }}{{ true is true }}{{ 1 is true }}{{ false is false }}{{ 'abc' is lower }}{{ 'aBc' is lower }}{{ 'ABC' is upper }}{{ 1 is lower }}{{ x is defined }}{{ x is undefined }}{{ x is not defined }}{{ none is not none }}", "{}"),
        ("test_odd_on_float_fails", "{{ 1.5 is odd }}", "{}"),
        ("test_unknown_fails", "{{ 1 is float }}", "{}"),
        ("test_with_argument_fails", "{{ 3 is divisibleby(3) }}", "{}"),
        ("test_eq_without_argument_fails", "{{ 1 is eq }}", "{}"),

        // String methods.
        ("string_methods", "{{ s.strip() }}|{{ s.lstrip() }}|{{ s.rstrip() }}|{{ 'xxhixx'.strip('x') }}|{{ s.upper() }}|{{ s.lower() }}|{{ 'ab cd'.title() }}|{{ 'ab cd'.capitalize() }}|{{ 'abc'.startswith('ab') }}|{{ 'abc'.startswith(('x', 'a')) }}|{{ 'abc'.endswith('bc') }}|{{ 'abc'.endswith(['x']) }}", Data),
        ("string_split", "{{ 'a,b,,c'.split(',') }}|{{ ' a  b c '.split() }}|{{ 'a,b,c'.split(',', 1) }}|{{ ' a b c '.split(none, 1) }}|{{ 'a b c'.split(' ', 0) }}|{{ 'a,b,c'.split(',', -2) }}|{{ '<think>x</think>y'.split('</think>')[-1] }}", "{}"),
        ("string_split_empty_separator_fails", "{{ 'abc'.split('') }}", "{}"),
        ("string_replace", "{{ 'aaa'.replace('a', 'b') }}|{{ 'aaa'.replace('a', 'b', 1) }}|{{ 'aaa'.replace('a', 'b', count=2) }}|{{ 'abc'.replace('', '-') }}|{{ 'abc'.replace('', '-', 2) }}|{{ 'a😀b'.replace('', '.') }}|{{ 'aaa'.replace('a', 'b', -1) }}|{{ 'aaa'.replace('a', 'b', 0) }}", "{}"),
        ("string_missing_method_fails", "{{ 'abc'.find('b') }}", "{}"),
        ("string_format_fails", "{{ '{}'.format(1) }}", "{}"),
        ("list_append_fails", "{% set l = [] %}{{ l.append(1) }}", "{}"),
        ("dict_methods", "{{ d.get('b') }}|{{ d.get('zz') }}|{{ d.get('zz', 'dflt') }}|{{ d.keys() }}|{{ d.values()|length }}|{{ d.items()|first }}|{{ d.get('zz') is none }}", Data),
        ("case_mapping_unicode", "{{ u.upper() }}|{{ u.lower() }}|{{ u|upper }}|{{ 'ΌΣΟΣ ΣΑ'|lower }}|{{ 'ß'|capitalize }}|{{ 'ﬁx'|upper }}", Data),

        // tojson.
        ("tojson_default", "{{ tools|tojson }}", Data),
        ("tojson_indent", "{{ tools|tojson(indent=2) }}|{{ [1, [], {}, {'a': []}]|tojson(indent=4) }}|{{ {'a': 1}|tojson(indent=0) }}", Data),
        ("tojson_ensure_ascii", "{{ tools|tojson(ensure_ascii=true) }}|{{ 'é\u007f'|tojson(ensure_ascii=True) }}", Data),
        ("tojson_separators", "{{ {'a': [1, 2]}|tojson(separators=(',', ':')) }}|{{ {'a': [1, 2]}|tojson(indent=2, separators=(', ', ' = ')) }}", "{}"),
        ("tojson_sort_keys", "{{ tools[0].function.parameters.properties|tojson(sort_keys=true) }}|{{ {'b': 1, 'a': {'d': 1, 'c': 2}, 'A': 0, 'a_b': 1, 'ab': 2, 'a1': 3, '_': 4}|tojson(sort_keys=true) }}", Data),
        ("tojson_values", "{{ [1, 1.0, 1.5, -0.0, none, nothing, true, 'x', 1e21]|tojson }}|{{ 'quote\"back\\\\slash\ttab\nnl'|tojson }}|{{ nothing|tojson }}", "{}"),
        ("tojson_tuple_fails", "{{ (1, 2)|tojson }}", "{}"),
        ("tojson_function_fails", "{{ range|tojson }}", "{}"),
        ("tojson_negative_indent_fails", "{{ [1]|tojson(indent=-1) }}", "{}"),
        ("tojson_macro_kwargs", "{% macro m() %}{{ kwargs|tojson }}{% endmacro %}{{ m(a=1) }}", "{}"),

        // Errors and globals.
        ("raise_exception_fails", "{% if messages[0].role == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}", Data),
        ("raise_exception_unreached", "{% if false %}{{ raise_exception('no') }}{% endif %}fine", "{}"),
        ("call_undefined_fails", "{{ nothing() }}", "{}"),
        ("call_non_function_fails", "{{ 'x'() }}", "{}"),
        ("strftime_now", "{{ strftime_now('%Y-%m-%d %H:%M') }}|{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%B') }}|{{ strftime_now('%%Y %A %-d') }}", "{}"),
        ("unknown_statement_fails", "{% include 'x.jinja' %}", "{}"),
        ("unclosed_if_fails", "{% if true %}x", "{}"),
        ("stray_endfor_fails", "{% endfor %}", "{}"),
        ("elif_chain", "{% for n in [1, 2, 3, 4] %}{% if n == 1 %}one{% elif n == 2 %}two{% elif n == 3 %}three{% else %}many{% endif %},{% endfor %}", "{}"),
        ("unterminated_comment_fails", "{# never closed", "{}"),
    ];
}
