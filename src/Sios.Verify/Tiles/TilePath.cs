using System.Globalization;
using System.Text;

namespace Sios.Verify.Tiles;

/// <summary>Paths, widths and the set of tiles of a tlog-tiles log (c2sp.org/tlog-tiles).</summary>
public static class TilePath
{
    /// <summary>Merkle tree levels spanned by one tile: a full tile holds 2^8 hashes.</summary>
    public const int Height = 8;

    /// <summary>Number of hashes (or entries) in a full tile.</summary>
    public const int FullWidth = 256;

    /// <summary>Highest level a tile path may name.</summary>
    public const int MaxLevel = 63;

    private const string Prefix = "tile/";
    private const string EntriesElement = "entries";
    private const string PartialSuffix = ".p";

    // 7 groups of 3 digits hold every non-negative long (long.MaxValue has 19 digits).
    private const int MaxIndexGroups = 7;

    /// <summary>The path of hash tile (<paramref name="level"/>, <paramref name="index"/>), e.g. <c>tile/0/x001/x234/067.p/5</c>; width 256 has no <c>.p</c> suffix.</summary>
    public static string Tile(int level, long index, int width)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(level);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(level, MaxLevel);
        return Format(level.ToString(CultureInfo.InvariantCulture), index, width);
    }

    /// <summary>The path of entry bundle <paramref name="index"/>, e.g. <c>tile/entries/x001/067</c>; width 256 has no <c>.p</c> suffix.</summary>
    public static string EntryBundle(long index, int width) => Format(EntriesElement, index, width);

    /// <summary>The path of <paramref name="address"/>, a hash tile or entry bundle.</summary>
    public static string Format(TileAddress address) =>
        address.IsEntryBundle ? EntryBundle(address.Index, address.Width) : Tile(address.Level, address.Index, address.Width);

    /// <summary>Parses a tile or entry bundle path (relative to the log prefix), rejecting every non-canonical spelling.</summary>
    public static bool TryParse(string path, out TileAddress address)
    {
        address = default;
        if (path is null || !path.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return false;
        }

        var parts = path[Prefix.Length..].Split('/');
        if (parts.Length < 2)
        {
            return false;
        }

        var isEntries = parts[0] == EntriesElement;
        var level = 0;
        if (!isEntries && !TryParseDecimal(parts[0], MaxLevel, out level))
        {
            return false;
        }

        var indexParts = parts.AsSpan(1);
        var width = FullWidth;
        if (indexParts.Length >= 2 && indexParts[^2].EndsWith(PartialSuffix, StringComparison.Ordinal))
        {
            if (!TryParseDecimal(indexParts[^1], FullWidth - 1, out width) || width == 0)
            {
                return false;
            }

            var last = indexParts[^2][..^PartialSuffix.Length];
            indexParts = indexParts[..^1];
            if (!TryParseIndex(indexParts[..^1], last, out var partialIndex))
            {
                return false;
            }

            address = new TileAddress(isEntries, level, partialIndex, width);
            return true;
        }

        if (!TryParseIndex(indexParts[..^1], indexParts[^1], out var index))
        {
            return false;
        }

        address = new TileAddress(isEntries, level, index, width);
        return true;
    }

    /// <summary>Width of the partial tile at <paramref name="level"/> for a tree of <paramref name="treeSize"/>: floor(s / 256^l) mod 256 (0 when there is none).</summary>
    public static int PartialWidth(int level, long treeSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(level);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(level, MaxLevel);
        ArgumentOutOfRangeException.ThrowIfNegative(treeSize);
        return (int)(ShiftRight(treeSize, Height * level) & (FullWidth - 1));
    }

    /// <summary>Number of full tiles at <paramref name="level"/> in a tree of <paramref name="treeSize"/>.</summary>
    public static long FullTileCount(int level, long treeSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(level);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(level, MaxLevel);
        ArgumentOutOfRangeException.ThrowIfNegative(treeSize);
        return ShiftRight(treeSize, Height * (level + 1));
    }

    /// <summary>Every hash tile a tree of <paramref name="treeSize"/> has, full ones then the partial one, level by level from 0.</summary>
    public static IEnumerable<TileAddress> TilesForSize(long treeSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(treeSize);
        return Enumerate(treeSize);

        static IEnumerable<TileAddress> Enumerate(long treeSize)
        {
            for (var level = 0; ShiftRight(treeSize, Height * level) != 0; level++)
            {
                var full = FullTileCount(level, treeSize);
                for (long index = 0; index < full; index++)
                {
                    yield return new TileAddress(false, level, index, FullWidth);
                }

                var width = PartialWidth(level, treeSize);
                if (width != 0)
                {
                    yield return new TileAddress(false, level, full, width);
                }
            }
        }
    }

    /// <summary>A right shift that yields 0, not a wrapped shift, for counts of 64 and more.</summary>
    internal static long ShiftRight(long value, int bits) => bits >= 64 ? 0 : value >> bits;

    private static string Format(string levelElement, long index, int width)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(width, FullWidth);

        Span<int> groups = stackalloc int[MaxIndexGroups];
        var count = 0;
        do
        {
            groups[count++] = (int)(index % 1000);
            index /= 1000;
        }
        while (index > 0);

        var builder = new StringBuilder(Prefix, 48).Append(levelElement);
        for (var i = count - 1; i >= 0; i--)
        {
            builder.Append(i > 0 ? "/x" : "/").Append(groups[i].ToString("D3", CultureInfo.InvariantCulture));
        }

        if (width != FullWidth)
        {
            builder.Append(PartialSuffix).Append('/').Append(width.ToString(CultureInfo.InvariantCulture));
        }

        return builder.ToString();
    }

    private static bool TryParseIndex(ReadOnlySpan<string> leading, string last, out long index)
    {
        index = 0;
        if (leading.Length + 1 > MaxIndexGroups)
        {
            return false;
        }

        for (var i = 0; i < leading.Length; i++)
        {
            var element = leading[i];
            if (element.Length != 4 || element[0] != 'x' || !TryParseGroup(element.AsSpan(1), out var group))
            {
                return false;
            }

            // A leading x000 group is a second spelling of a smaller index.
            if (i == 0 && group == 0)
            {
                return false;
            }

            if (!TryAppendGroup(ref index, group))
            {
                return false;
            }
        }

        return last.Length == 3 && TryParseGroup(last, out var lastGroup) && TryAppendGroup(ref index, lastGroup);
    }

    private static bool TryAppendGroup(ref long index, int group)
    {
        if (index > (long.MaxValue - group) / 1000)
        {
            return false;
        }

        index = (index * 1000) + group;
        return true;
    }

    private static bool TryParseGroup(ReadOnlySpan<char> digits, out int group)
    {
        group = 0;
        foreach (var c in digits)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }

            group = (group * 10) + (c - '0');
        }

        return true;
    }

    private static bool TryParseDecimal(string text, int max, out int value)
    {
        value = 0;
        if (text.Length == 0 || text.Length > 3 || (text.Length > 1 && text[0] == '0'))
        {
            return false;
        }

        foreach (var c in text)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }

            value = (value * 10) + (c - '0');
        }

        return value <= max;
    }
}
