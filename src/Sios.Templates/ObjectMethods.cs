namespace Sios.Templates;

/// <summary>The dict methods the reference has: get, items, keys, values and dictsort (also usable as filters).</summary>
internal static class ObjectMethods
{
    public static Value? Get(ObjectValue dict, string name)
    {
        FunctionValue Method(Func<List<Value>, Value> body) => new($"method 'dict.{name}'", (args, _) => body(args));

        return name switch
        {
            "get" => Method(args => args.ElementAtOrDefault(0) is StringValue key
                ? Lookup(dict, key.Text) ?? args.ElementAtOrDefault(1) ?? NullValue.Instance
                : throw new RenderError("Object key must be a string", "method 'dict.get'")),
            "items" => Method(_ => Items(dict)),
            "keys" => Method(_ => new ArrayValue([.. dict.Entries.Keys.Select(k => (Value)new StringValue(k))])),
            "values" => Method(_ => new ArrayValue([.. dict.Entries.Values])),
            "dictsort" => Method(args => DictSort(dict, args)),
            _ => null,
        };
    }

    public static ArrayValue Items(ObjectValue dict) =>
        new([.. dict.Entries.Select(e => (Value)new ArrayValue([new StringValue(e.Key), e.Value]))]);

    private static Value? Lookup(ObjectValue dict, string key) =>
        dict.Entries.TryGetValue(key, out var value) && value is not VoidValue ? value : null;

    private static ArrayValue DictSort(ObjectValue dict, List<Value> args)
    {
        var keywords = args.OfType<KeywordArgumentsValue>().LastOrDefault()?.Entries ?? [];
        var positional = args.Where(a => a is not KeywordArgumentsValue).ToList();
        var caseSensitive = positional.ElementAtOrDefault(0) ?? keywords.GetValueOrDefault("case_sensitive") ?? BooleanValue.False;
        var by = positional.ElementAtOrDefault(1) ?? keywords.GetValueOrDefault("by") ?? new StringValue("key");
        var reverse = positional.ElementAtOrDefault(2) ?? keywords.GetValueOrDefault("reverse") ?? BooleanValue.False;
        if (caseSensitive is not BooleanValue sensitive || reverse is not BooleanValue descending)
        {
            throw new RenderError("case_sensitive and reverse must be booleans", "filter 'dictsort'");
        }

        if (by is not StringValue { Text: "key" or "value" } field)
        {
            throw new RenderError("by must be either 'key' or 'value'", "filter 'dictsort'");
        }

        var index = field.Text == "key" ? 0 : 1;
        var order = new ValueOrder(sensitive.Flag, null);
        var sign = descending.Flag ? -1 : 1;
        return new ArrayValue(ValueOrder.StableSort(Items(dict).Items, Comparer<Value>.Create((a, b) => sign * order.Compare(((ArrayValue)a).Items[index], ((ArrayValue)b).Items[index]))));
    }
}
