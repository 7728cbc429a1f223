using Longshot.Tensors;
using Longshot.Video.Toonworld;

namespace Longshot.Eval.Attributes;

/// <summary>
/// What the evaluation can see in a Toonworld frame: place, time of day and framing (one of each), and which shirt
/// colours, accessories and body shapes are in view (any number). The attribute classifier predicts exactly these, so
/// a frame's predictions can be compared with what its prompt asks for, and across shots for consistency.
/// </summary>
public static class FrameAttributes
{
    public static readonly string[] Places = Palette.Places.Select(p => p.Name).ToArray();
    public static readonly string[] Times = Palette.Times.Select(t => t.Name).ToArray();
    public static readonly string[] Framings = { "wide", "medium", "close" };
    public static readonly string[] Shirts = Palette.Shirts.Select(s => s.Name).ToArray();
    public static readonly string[] Accessories = Enum.GetValues<Accessory>().Where(a => a != Accessory.None)
        .Select(Palette.AccessoryWord).ToArray();
    public static readonly string[] Bodies = { "round", "tall", "square" };

    /// <summary>Offsets of each group in the target/logit vector.</summary>
    public const int PlaceAt = 0;
    public static readonly int TimeAt = PlaceAt + Places.Length;
    public static readonly int FramingAt = TimeAt + Times.Length;
    public static readonly int ShirtAt = FramingAt + Framings.Length;
    public static readonly int AccessoryAt = ShirtAt + Shirts.Length;
    public static readonly int BodyAt = AccessoryAt + Accessories.Length;
    /// <summary>Length of the target vector.</summary>
    public static readonly int Count = BodyAt + Bodies.Length;

    /// <summary>The single-choice groups (softmax heads): (offset, size).</summary>
    public static readonly (int At, int Size)[] ChoiceGroups = { (PlaceAt, Places.Length), (TimeAt, Times.Length),
        (FramingAt, Framings.Length) };

    /// <summary>The any-number groups (sigmoid heads): (offset, size).</summary>
    public static readonly (int At, int Size)[] PresenceGroups = { (ShirtAt, Shirts.Length),
        (AccessoryAt, Accessories.Length), (BodyAt, Bodies.Length) };

    /// <summary>Target vector of a frame from its ground truth: one-hot choices and 0/1 presences of visible
    /// characters.</summary>
    public static float[] Targets(FrameAnnotation a)
    {
        var t = new float[Count];
        t[PlaceAt + Index(Places, a.Place)] = 1;
        t[TimeAt + Index(Times, a.TimeOfDay)] = 1;
        t[FramingAt + Index(Framings, a.Framing)] = 1;
        foreach (var c in a.Characters.Where(c => c.Visible))
        {
            t[ShirtAt + Index(Shirts, c.Shirt)] = 1;
            if (c.Accessory is { Length: > 0 } acc
                && acc != "none") t[AccessoryAt + Index(Accessories, AccessoryName(acc))] = 1;
            t[BodyAt + Index(Bodies, c.Body)] = 1;
        }
        return t;
    }

    /// <summary>Annotations spell accessories as identifiers ("top hat" or "TopHat"); captions as words.</summary>
    private static string AccessoryName(string s) =>
        Enum.TryParse<Accessory>(s.Replace(" ", ""), ignoreCase: true, out var a) ? Palette.AccessoryWord(a) : s;

    private static int Index(string[] names, string name)
    {
        int i = Array.FindIndex(names, n => string.Equals(n, name, StringComparison.OrdinalIgnoreCase));
        return i >= 0 ? i
            : throw new LongshotException($"unknown attribute value '{name}' (expected one of {string.Join(", " +
            "", names)}).");
    }
}

/// <summary>What one prompt asks to see: place, time and framing (when stated), and the named characters'
/// looks.</summary>
public sealed record PromptAttributes(string? Place, string? Time, string? Framing,
    IReadOnlyList<CharacterLook> Characters)
{
    /// <summary>
    /// Reads a Toonworld-style prompt ("Close-up of the town at night. Pax, in a blue shirt and a top hat, sits.").
    /// Unrecognised words are ignored, so free-form prompts just ask for less.
    /// </summary>
    public static PromptAttributes Parse(string prompt)
    {
        var lower = prompt.ToLowerInvariant();
        string? place = FrameAttributes.Places.FirstOrDefault(p => ContainsWord(lower, p));
        string? time = FrameAttributes.Times.FirstOrDefault(t => ContainsWord(lower, t));
        string? framing = lower.Contains("close-up") ? "close" : lower.Contains("medium shot") ? "medium"
            : lower.Contains("wide shot") ? "wide" : null;
        var looks = new List<CharacterLook>();
        int dot = lower.IndexOf('.');
        var people = dot >= 0 ? prompt[(dot + 1)..] : prompt;
        foreach (var part in people.Split(';'))
        {
            var name = Palette.Names.FirstOrDefault(n => ContainsWord(part, n));
            if (name == null) continue;
            var pl = part.ToLowerInvariant();
            var shirt = FrameAttributes.Shirts.FirstOrDefault(s => ContainsWord(pl, s + " shirt"));
            var acc = FrameAttributes.Accessories.FirstOrDefault(a => ContainsWord(pl, a));
            looks.Add(new CharacterLook(name, shirt, acc));
        }
        return new PromptAttributes(place, time, framing, looks);
    }

    private static bool ContainsWord(string text, string word)
    {
        for (int i = text.IndexOf(word, StringComparison.OrdinalIgnoreCase); i >= 0; i = text.IndexOf(word, i + 1,
            StringComparison.OrdinalIgnoreCase))
        {
            bool start = i == 0 || !char.IsLetter(text[i - 1]);
            bool end = i + word.Length == text.Length || !char.IsLetter(text[i + word.Length]);
            if (start && end) return true;
        }
        return false;
    }
}

/// <summary>A character as a prompt describes it.</summary>
public sealed record CharacterLook(string Name, string? Shirt, string? Accessory);
