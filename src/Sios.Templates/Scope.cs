namespace Sios.Templates;

/// <summary>
/// A variable scope. Lookups walk outward; a macro's scope hangs off its caller's (the reference scopes dynamically).
/// Every scope starts with its own <c>namespace</c>, which is why a template can never see an outer override of it.
/// </summary>
/// <remarks>
/// Only the innermost running scope is ever assigned to, so while a scope lives its ancestors do not change and what
/// it finds in them can be remembered: deep recursion then looks a macro's name up in one step, not one per level.
/// The exception is a scope a call block's caller captures, which may be reached again after its ancestors moved on;
/// it forgets and stops remembering. Scopes hold few names, so they are kept in small arrays, not dictionaries.
/// </remarks>
internal sealed class Scope(Scope? parent, FunctionValue namespaceFunction)
{
    private const int Remembered = 4;

    private Slots _variables;
    private Slots _inherited;
    private bool _captured;

    public Scope Child() => new(this, namespaceFunction);

    public bool Declares(string name) => name == "namespace" || _variables.Find(name) is not null;

    public Value Lookup(string name)
    {
        if (_variables.Find(name) is { } own)
        {
            return own;
        }

        if (name == "namespace")
        {
            return namespaceFunction;
        }

        if (_inherited.Find(name) is { } remembered)
        {
            return remembered;
        }

        var found = parent?.Lookup(name) ?? UndefinedValue.Instance;
        if (!_captured && parent is not null)
        {
            _inherited.Remember(name, found, Remembered);
        }

        return found;
    }

    // A bare undefined stored in a variable reads back as the runtime undefined.
    public void Set(string name, Value value) => _variables.Set(name, value is VoidValue ? UndefinedValue.Instance : value);

    /// <summary>Marks the scope as held by a closure that may outlive it: from now on it looks outward every time.</summary>
    public Scope Capture()
    {
        _captured = true;
        _inherited = default;
        return this;
    }

    // Names and values side by side, searched linearly (identifier names are interned, so mostly by reference);
    // a scope with many names (the globals, a template's top level) gets an index.
    private struct Slots
    {
        private const int Linear = 8;

        private string[]? _names;
        private Value[]? _values;
        private Dictionary<string, int>? _index;
        private int _count;
        private int _next;

        public readonly Value? Find(string name)
        {
            if (_index is not null)
            {
                return _index.TryGetValue(name, out var at) ? _values![at] : null;
            }

            for (var i = 0; i < _count; i++)
            {
                if (ReferenceEquals(_names![i], name) || _names[i] == name)
                {
                    return _values![i];
                }
            }

            return null;
        }

        public void Set(string name, Value value)
        {
            if (_index is not null && _index.TryGetValue(name, out var at))
            {
                _values![at] = value;
                return;
            }

            for (var i = 0; _index is null && i < _count; i++)
            {
                if (ReferenceEquals(_names![i], name) || _names[i] == name)
                {
                    _values![i] = value;
                    return;
                }
            }

            if (_names is null || _count == _names.Length)
            {
                Array.Resize(ref _names, Math.Max(4, _count * 2));
                Array.Resize(ref _values, _names.Length);
            }

            _names[_count] = name;
            _values![_count] = value;
            if (_index is not null)
            {
                _index[name] = _count;
            }
            else if (_count == Linear)
            {
                _index = [];
                for (var i = 0; i <= _count; i++)
                {
                    _index[_names[i]] = i;
                }
            }

            _count++;
        }

        // A bounded memory: past its size the oldest entry makes room.
        public void Remember(string name, Value value, int size)
        {
            if (_count < size)
            {
                Set(name, value);
                return;
            }

            _names![_next] = name;
            _values![_next] = value;
            _next = (_next + 1) % size;
        }
    }
}
