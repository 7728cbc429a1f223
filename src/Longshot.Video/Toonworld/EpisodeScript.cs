using Longshot.Tensors;

namespace Longshot.Video.Toonworld;

/// <summary>Settings of a generated episode.</summary>
public sealed record ToonworldSettings
{
    /// <summary>Frames per episode; 3,376 = 16 -> 226 -> 3376 with L = 16 and depth 3 (the paper's training
    /// length).</summary>
    public int Frames { get; init; } = 3376;
    public int Width { get; init; } = 64;
    public int Height { get; init; } = 64;
    public double Fps { get; init; } = 24;
    /// <summary>Recurring characters per episode (at most 8).</summary>
    public int CastSize { get; init; } = 4;
    public ulong Seed { get; init; } = 1;

    public void Validate()
    {
        if (Frames < 1) throw new LongshotException($"Toonworld: frames must be >= 1, got {Frames}.");
        if (Width < 16 || Height < 16 || Width > 1024 || Height > 1024)
            throw new LongshotException($"Toonworld: size {Width}x{Height} must be between 16 and 1024 pixels per " +
            $"side.");
        if (CastSize < 1 || CastSize > Palette.Names.Length)
            throw new LongshotException($"Toonworld: cast size {CastSize} must be 1..{Palette.Names.Length}.");
        if (Fps <= 0) throw new LongshotException($"Toonworld: fps {Fps} must be positive.");
    }
}

/// <summary>A stretch of one action: the character's stage x moves linearly from X0 to X1 over [Start, End).</summary>
public sealed record ActionSegment(int Start, int End, CharacterAction Action, float X0, float X1);

/// <summary>A character's part in a shot: its depth lane (0 = back, 1 = front) and its actions.</summary>
public sealed record Performer(int CharacterId, float Lane, IReadOnlyList<ActionSegment> Segments)
{
    public ActionSegment SegmentAt(int frame)
    {
        foreach (var s in Segments) if (frame < s.End) return s;
        return Segments[^1];
    }
}

/// <summary>One shot: frames [Start, End) at a location, with a framing and a camera pan.</summary>
public sealed record Shot(int Id, int Start, int End, int LocationId, Framing Framing, float CameraX0, float CameraX1,
    IReadOnlyList<Performer> Performers)
{
    public float CameraX(int frame) => End - Start <= 1 ? CameraX0 : CameraX0 + (CameraX1 - CameraX0)
        * (frame - Start) / (End - Start - 1);
}

/// <summary>
/// Everything that happens in an episode, decided up front from the seed: cast, locations, shots and every
/// character's actions. Any frame is then a pure function of the script and its index, so frames render in
/// parallel and any frame can be regenerated alone.
/// </summary>
public sealed class EpisodeScript
{
    public const float StageWidth = 12f;

    public ToonworldSettings Settings { get; }
    public IReadOnlyList<Character> Cast { get; }
    public IReadOnlyList<Location> Locations { get; }
    public IReadOnlyList<Shot> Shots { get; }

    private EpisodeScript(ToonworldSettings s, List<Character> cast, List<Location> locs, List<Shot> shots)
    {
        Settings = s; Cast = cast; Locations = locs; Shots = shots;
    }

    public static float ViewWidth(Framing f) => f switch { Framing.Wide => 8f, Framing.Medium => 5f, _ => 3.2f };

    /// <summary>The shot containing a frame.</summary>
    public Shot ShotAt(int frame)
    {
        if ((uint)frame >= (uint)Settings.Frames)
            throw new ArgumentOutOfRangeException(nameof(frame),
            $"frame {frame} is outside the episode's {Settings.Frames} frames.");
        int lo = 0, hi = Shots.Count - 1;
        while (lo < hi)
        {
            int mid = (lo + hi + 1) / 2;
            if (Shots[mid].Start <= frame) lo = mid; else hi = mid - 1;
        }
        return Shots[lo];
    }

    /// <summary>Writes the script for episode <paramref name="episode"/> of a data set seeded by
    /// settings.Seed.</summary>
    public static EpisodeScript Create(ToonworldSettings s, int episode)
    {
        s.Validate();
        var rng = new Rng(s.Seed).Derive(0x70057, (ulong)episode);
        // Cast: distinct names and shirt colours.
        var names = Shuffle(Enumerable.Range(0, Palette.Names.Length).ToList(), rng);
        var shirts = Shuffle(Enumerable.Range(0, Palette.Shirts.Length).ToList(), rng);
        var cast = new List<Character>();
        for (int i = 0; i < s.CastSize; i++)
        {
            cast.Add(new Character(i, Palette.Names[names[i]], (BodyShape)rng.NextInt(3), Palette.Shirts[shirts[i]],
                (Accessory)rng.NextInt(6), Palette.AccessoryColors[rng.NextInt(Palette.AccessoryColors.Length)],
                    Palette.Skins[rng.NextInt(Palette.Skins.Length)]));
        }
        // Locations: 3 or 4 places, each at a fixed time of day.
        var places = Shuffle(Enumerable.Range(0, Palette.Places.Length).ToList(), rng);
        int nLoc = 3 + rng.NextInt(2);
        var locs = new List<Location>();
        for (int i = 0; i < nLoc; i++)
        {
            var p = Palette.Places[places[i]];
            var t = Palette.Times[rng.NextInt(Palette.Times.Length)];
            int props = 4 + rng.NextInt(3);
            var xs = Enumerable.Range(0, props).Select(k => (k + 0.2f + 0.6f * rng.NextFloat()) * StageWidth / props)
                .ToArray();
            locs.Add(new Location(i, p.Name, t.Name, t.Top, t.Bottom, p.Ground, p.Hills, p.Prop, xs));
        }
        // Shots: cuts every 2-12 s; a new location at about a third of the cuts.
        var shots = new List<Shot>();
        int start = 0, loc = 0;
        while (start < s.Frames)
        {
            int len = (int)Math.Round((2 + 10 * rng.NextFloat()) * s.Fps);
            int end = Math.Min(s.Frames, start + Math.Max(1, len));
            if (shots.Count > 0 && rng.NextFloat() < 0.35f) loc = (loc + 1 + rng.NextInt(nLoc - 1)) % nLoc;
            var framing = (Framing)rng.NextInt(3);
            float vw = ViewWidth(framing);
            float cam0 = vw / 2 + rng.NextFloat() * (StageWidth - vw);
            var performers = Perform(s, cast.Count, start, end, cam0, vw, rng);
            // The camera pans towards where the characters end up (those that leave excepted).
            var stay = performers.Where(p => p.Segments[^1].Action != CharacterAction.Exit)
                .Select(p => p.Segments[^1].X1).ToList();
            float target = stay.Count > 0 ? stay.Average() : cam0;
            float cam1 = Math.Clamp(cam0 + (target - cam0) * 0.8f, vw / 2, StageWidth - vw / 2);
            shots.Add(new Shot(shots.Count, start, end, loc, framing, cam0, cam1, performers));
            start = end;
        }
        return new EpisodeScript(s, cast, locs, shots);
    }

    private static List<Performer> Perform(ToonworldSettings s, int castCount, int start, int end, float cam, float vw,
        Rng rng)
    {
        int k = 1 + rng.NextInt(Math.Min(3, castCount));
        var who = Shuffle(Enumerable.Range(0, castCount).ToList(), rng).Take(k).ToList();
        var performers = new List<Performer>();
        for (int i = 0; i < who.Count; i++)
        {
            float lane = (i + 0.5f) / who.Count;
            var segs = new List<ActionSegment>();
            float left = cam - vw / 2, right = cam + vw / 2;
            float x = left + 0.6f + rng.NextFloat() * Math.Max(0.1f, vw - 1.2f);
            int t = start;
            if (rng.NextFloat() < 0.3f && end - start > s.Fps * 3)
            {
                // Enter from the nearer edge of the view.
                bool fromLeft = x < cam;
                float from = fromLeft ? left - 1f : right + 1f;
                int d = (int)(s.Fps * (1 + rng.NextFloat()));
                segs.Add(new ActionSegment(t, t + d, CharacterAction.Enter, from, x));
                t += d;
            }
            bool exits = rng.NextFloat() < 0.25f && end - t > s.Fps * 3;
            int actionEnd = exits ? end - (int)(s.Fps * 1.5) : end;
            while (t < actionEnd)
            {
                int d = Math.Min(actionEnd - t, (int)(s.Fps * (1 + 3 * rng.NextFloat())));
                if (actionEnd - (t + d) < s.Fps / 2) d = actionEnd - t;
                var a = (CharacterAction)rng.NextInt(6); // Stand .. Sit
                float x1 = x;
                if (a is CharacterAction.WalkLeft or CharacterAction.WalkRight)
                {
                    float dist = 0.9f * d / (float)s.Fps * (a == CharacterAction.WalkLeft ? -1 : 1);
                    x1 = Math.Clamp(x + dist, 0.4f, StageWidth - 0.4f);
                    if (Math.Abs(x1 - x) < 0.2f) a = CharacterAction.Stand;
                }
                segs.Add(new ActionSegment(t, t + d, a, x, x1));
                x = x1; t += d;
            }
            if (exits)
            {
                float to = x < cam ? left - 1.2f : right + 1.2f;
                segs.Add(new ActionSegment(t, end, CharacterAction.Exit, x, to));
            }
            performers.Add(new Performer(who[i], lane, segs));
        }
        return performers;
    }

    private static List<int> Shuffle(List<int> xs, Rng rng)
    {
        for (int i = xs.Count - 1; i > 0; i--)
        {
            int j = rng.NextInt(i + 1);
            (xs[i], xs[j]) = (xs[j], xs[i]);
        }
        return xs;
    }
}
