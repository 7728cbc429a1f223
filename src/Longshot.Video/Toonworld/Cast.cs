using Longshot.Video.Imaging;

namespace Longshot.Video.Toonworld;

/// <summary>Body shapes of Toonworld characters.</summary>
public enum BodyShape { Round, Tall, Square }

/// <summary>What a character wears on its head.</summary>
public enum Accessory { None, Cap, TopHat, Bow, Antenna, Crown }

/// <summary>What a character is doing.</summary>
public enum CharacterAction { Stand, WalkLeft, WalkRight, Jump, Wave, Sit, Enter, Exit }

/// <summary>Shot framing: how much of the stage the camera shows.</summary>
public enum Framing { Wide, Medium, Close }

/// <summary>A named colour, so captions can say it and tests can find it in the pixels.</summary>
public sealed record NamedColor(string Name, Rgb Rgb);

/// <summary>A recurring character whose look is fixed for the whole episode.</summary>
public sealed record Character(int Id, string Name, BodyShape Body, NamedColor Shirt, Accessory Accessory,
    NamedColor AccessoryColor, Rgb Skin);

/// <summary>A place: sky by time of day, ground, props.</summary>
public sealed record Location(int Id, string Name, string TimeOfDay, Rgb SkyTop, Rgb SkyBottom, Rgb Ground, Rgb Hills,
    string Prop, float[] PropXs);

/// <summary>The fixed vocabularies of Toonworld.</summary>
public static class Palette
{
    public static readonly string[] Names = { "Bora", "Tika", "Momo", "Ziggy", "Pax", "Lulu", "Nori", "Kip" };

    /// <summary>Shirt colours: saturated and far apart, and used by nothing else in a scene.</summary>
    public static readonly NamedColor[] Shirts =
    {
        new("red", new Rgb(220, 30, 40)), new("blue", new Rgb(30, 70, 220)), new("yellow", new Rgb(250, 215, 0)),
        new("purple", new Rgb(140, 40, 190)), new("orange", new Rgb(255, 130, 0)), new("pink", new Rgb(255, 90, 190)),
        new("teal", new Rgb(0, 170, 170)), new("white", new Rgb(250, 250, 250)),
    };

    public static readonly NamedColor[] AccessoryColors =
    {
        new("black", new Rgb(20, 20, 20)), new("brown", new Rgb(110, 60, 20)), new("gold", new Rgb(200, 160, 40)),
            new("grey", new Rgb(120, 120, 130)),
    };

    public static readonly Rgb[] Skins = { new(255, 214, 170), new(224, 172, 120), new(170, 115, 70),
        new(120, 80, 50) };

    /// <summary>Locations: name, prop kind, ground colour, hill colour.</summary>
    public static readonly (string Name, string Prop, Rgb Ground, Rgb Hills)[] Places =
    {
        ("quarry", "rock", new(150, 130, 110), new(170, 150, 130)),
        ("meadow", "tree", new(90, 160, 70), new(110, 175, 95)),
        ("beach", "palm", new(225, 205, 150), new(120, 180, 210)),
        ("town", "house", new(130, 130, 125), new(150, 150, 160)),
        ("forest", "pine", new(60, 110, 50), new(50, 90, 55)),
        ("desert", "cactus", new(215, 175, 110), new(200, 160, 100)),
    };

    /// <summary>Times of day: sky top and bottom colours.</summary>
    public static readonly (string Name, Rgb Top, Rgb Bottom)[] Times =
    {
        ("morning", new(120, 170, 235), new(230, 225, 200)),
        ("noon", new(70, 140, 240), new(170, 210, 250)),
        ("dusk", new(80, 60, 130), new(245, 150, 90)),
        ("night", new(10, 15, 45), new(40, 50, 90)),
    };

    public static string AccessoryWord(Accessory a) => a switch
    {
        Accessory.Cap => "cap", Accessory.TopHat => "top hat", Accessory.Bow => "bow",
        Accessory.Antenna => "antenna", Accessory.Crown => "crown", _ => "",
    };

    public static string ActionPhrase(CharacterAction a) => a switch
    {
        CharacterAction.WalkLeft => "walks left",
        CharacterAction.WalkRight => "walks right",
        CharacterAction.Jump => "jumps",
        CharacterAction.Wave => "waves",
        CharacterAction.Sit => "sits",
        CharacterAction.Enter => "enters",
        CharacterAction.Exit => "leaves",
        _ => "stands",
    };

    public static string ActionId(CharacterAction a) => a switch
    {
        CharacterAction.WalkLeft => "walk_left",
        CharacterAction.WalkRight => "walk_right",
        _ => a.ToString().ToLowerInvariant(),
    };
}
