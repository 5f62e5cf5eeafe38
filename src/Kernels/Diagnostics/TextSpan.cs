namespace Sluice.Kernels.Diagnostics;

/// <summary>A range of characters in an expression's source text.</summary>
public readonly record struct TextSpan(int Start, int Length)
{
    /// <summary>The first position after the span.</summary>
    public int End => Start + Length;

    /// <summary>The span from the start of <paramref name="a"/> to the end of <paramref name="b"/>.</summary>
    public static TextSpan Cover(TextSpan a, TextSpan b) => new(Math.Min(a.Start, b.Start), Math.Max(a.End, b.End) - Math.Min(a.Start, b.Start));
}
