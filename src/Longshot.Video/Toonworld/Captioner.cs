namespace Longshot.Video.Toonworld;

/// <summary>Writes a frame's caption from its ground truth: the shot, the place, and what each visible character
/// does.</summary>
public static class Captioner
{
    public static string Caption(EpisodeScript script, FrameAnnotation a)
    {
        string framing = a.Framing switch { "wide" => "Wide shot", "medium" => "Medium shot", _ => "Close-up" };
        var head = $"{framing} of the {a.Place} {(a.TimeOfDay == "morning" ? "in the morning" : "at " + a.TimeOfDay)}.";
        var visible = a.Characters.Where(c => c.Visible).OrderBy(c => (c.Box[0] + c.Box[2]) / 2).ToList();
        if (visible.Count == 0) return head + " Nobody is in view.";
        var parts = visible.Select(c =>
        {
            var ch = script.Cast[c.Id];
            string look = $"in {Article(c.Shirt)} {c.Shirt} shirt";
            if (ch.Accessory != Accessory.None) look += $" and {Article(Palette.AccessoryWord(ch.Accessory))} " +
                $"{Palette.AccessoryWord(ch.Accessory)}";
            string action = Palette.ActionPhrase(Enum.Parse<CharacterAction>(c.Action.Replace("_", ""),
                ignoreCase: true));
            return $"{c.Name}, {look}, {action}";
        });
        return head + " " + string.Join("; ", parts) + ".";
    }

    private static string Article(string word) => "aeiou".Contains(word[0]) ? "an" : "a";
}
