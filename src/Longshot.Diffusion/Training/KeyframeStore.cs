using System.Text.Json;
using System.Text.Json.Serialization;
using Longshot.Diffusion.Vae;
using Longshot.Tensors;
using Longshot.Tensors.IO;
using Longshot.Tensors.Kernels;
using Longshot.Video.Toonworld;

namespace Longshot.Diffusion.Training;

/// <summary>What a keyframe store holds: how many stories, how they were drawn and which VAE encoded them.</summary>
public sealed record KeyframeStoreSettings
{
    public const string FileName = "keyframes.json";
    public const string CurrentFormat = "longshot-keyframes/1";

    [JsonPropertyName("format")] public string Format { get; init; } = CurrentFormat;
    /// <summary>Toonworld stories (episode scripts), each its own cast, places and plot.</summary>
    [JsonPropertyName("stories")] public int Stories { get; init; } = 2000;
    /// <summary>Units drawn from each story (each from its own request length).</summary>
    [JsonPropertyName("units_per_story")] public int UnitsPerStory { get; init; } = 2;
    /// <summary>The hierarchy levels the units come from, in turn (unit r of a story from level
    /// Levels[r mod count]): 1 for the global model's keyframes, 2 and deeper for the local model's units, whose
    /// ends are given.</summary>
    [JsonPropertyName("levels")] public int[] Levels { get; init; } = { 1 };
    /// <summary>Keyframes per unit (the global model's L).</summary>
    [JsonPropertyName("length")] public int Length { get; init; } = 16;
    /// <summary>Frames of each story's script: request lengths are drawn up to it.</summary>
    [JsonPropertyName("frames")] public int Frames { get; init; } = 3376;
    [JsonPropertyName("width")] public int Width { get; init; } = 64;
    [JsonPropertyName("height")] public int Height { get; init; } = 64;
    [JsonPropertyName("cast")] public int Cast { get; init; } = 4;
    /// <summary>Toonworld seed of the scripts: another seed than the dataset's keeps them apart from its
    /// episodes (the dataset stores use seed 1).</summary>
    [JsonPropertyName("seed")] public ulong Seed { get; init; } = 2;
    /// <summary>Stories per shard file (the unit of resuming).</summary>
    [JsonPropertyName("shard_size")] public int ShardSize { get; init; } = 100;
    /// <summary>Hash of the VAE that encoded the latents (<see cref="LatentCache.VaeHash"/>).</summary>
    [JsonPropertyName("vae")] public string Vae { get; init; } = "";

    [JsonIgnore] public int Shards => (Stories + ShardSize - 1) / ShardSize;

    [JsonIgnore] public ToonworldSettings Toonworld =>
        new() { Frames = Frames, Width = Width, Height = Height, CastSize = Cast, Seed = Seed };

    public KeyframeStoreSettings Validate()
    {
        if (Format != CurrentFormat) throw new LongshotException($"format '{Format}' is not {CurrentFormat}.");
        if (Stories < 1 || UnitsPerStory < 1 || ShardSize < 1)
            throw new LongshotException("stories, units per story and shard size must be at least 1.");
        if (Levels.Length == 0 || Levels.Any(l => l < 1) || UnitsPerStory < Levels.Length)
            throw new LongshotException($"levels ({string.Join(",", Levels)}) must be 1 or deeper, at most one per " +
                $"unit of a story ({UnitsPerStory}).");
        if (Length < 3 || Frames < Length)
            throw new LongshotException($"need 3 <= length ({Length}) <= frames per story ({Frames}).");
        Toonworld.Validate();
        return this;
    }
}

/// <summary>
/// Training data from thousands of Toonworld stories, holding only the frames a level uses (NUWA-XL's global model
/// needs only the L keyframes of each unit). For each story, <see cref="KeyframeStoreSettings.UnitsPerStory"/> units
/// are drawn as generation plans them (<see cref="LongVideoSampling.SampleRequest"/>: a log-uniform request length,
/// its schedule, a unit of the slot's level at a random offset): the global model's keyframes at level 1, the local
/// model's units with their given ends below. Only those frames are rendered (Toonworld renders any frame of a script
/// directly) and encoded by the T-KLVAE, each frame on its own. Encoding a frame alone instead of inside the latent
/// cache's overlapping 8-frame tiles moves its scaled latent by 1% of the latents' standard deviation (RMS 0.013
/// against 1.29, measured on the dataset's episode 0), at a quarter of the cost of its three-frame neighbourhood.
/// The stories of one shard share each unit's shape (slot r of every story has the same request length and
/// positions, at its own offset) so that a training batch can take several stories of one slot. Shards are written
/// atomically, so an interrupted build resumes shard by shard.
/// </summary>
public sealed class KeyframeStore
{
    /// <summary>One shard: latents [slots x stories x frames, c, h, w] (slot-major), captions in the same order, the
    /// unit positions of each slot relative to its first frame and its given frames, and each unit's first frame in its
    /// story. A slot's units have L frames, or fewer for a finest level that a request does not fill.</summary>
    private sealed record Shard(Tensor Latents, string[] Captions, int[][] Positions, bool[][] Given, int[] Starts,
        int Stories)
    {
        /// <summary>Where each slot's units begin in the latents.</summary>
        public int[] SlotOffsets { get; } = Positions.Select((_, r) =>
            Positions.Take(r).Sum(p => p.Length) * Stories).ToArray();
    }

    private readonly Shard[] _shards;
    private readonly ToonworldStories _stories;

    public KeyframeStoreSettings Settings { get; }

    /// <summary>Every caption of the store (to build a tokenizer).</summary>
    public IEnumerable<string> Captions => _shards.SelectMany(s => s.Captions);

    private KeyframeStore(KeyframeStoreSettings settings, Shard[] shards)
    {
        Settings = settings;
        _shards = shards;
        _stories = new ToonworldStories(settings.Toonworld);
    }

    private static string ShardPath(string dir, int shard) => Path.Combine(dir, $"shard_{shard:D5}.safetensors");

    /// <summary>
    /// Renders and encodes the shards not yet written into <paramref name="dir"/>, then loads the store. A folder
    /// that already holds a store must have been started with the same settings.
    /// </summary>
    public static KeyframeStore Build(string dir, KeyframeStoreSettings settings, string vaeFolder,
        IProgress<(int Done, int Total)>? progress = null, CancellationToken ct = default)
    {
        settings = (settings with { Vae = LatentCache.VaeHash(vaeFolder) }).Validate();
        if (File.Exists(dir)) throw new SettingException("Out", $"{dir} is a file, not a folder.");
        var manifest = Path.Combine(dir, KeyframeStoreSettings.FileName);
        if (File.Exists(manifest))
        {
            var existing = Read(manifest);
            if (JsonSerializer.Serialize(existing) != JsonSerializer.Serialize(settings))
                throw new SettingException("Out", $"{dir} holds a keyframe store of other settings " +
                    $"({Describe(existing)}); use another folder for {Describe(settings)}.");
        }
        else
        {
            Directory.CreateDirectory(dir);
            AtomicFile.WriteAllText(manifest, JsonSerializer.Serialize(settings));
        }
        var vae = AutoencoderKL.Load(vaeFolder);
        for (int s = 0; s < settings.Shards; s++)
        {
            ct.ThrowIfCancellationRequested();
            if (TryLoadShard(ShardPath(dir, s), settings, s) == null) WriteShard(dir, settings, s, vae, ct);
            progress?.Report((s + 1, settings.Shards));
        }
        return Load(dir);
    }

    /// <summary>Loads a complete store; a missing or damaged shard is an error that says how to finish it.</summary>
    public static KeyframeStore Load(string dir)
    {
        var manifest = Path.Combine(dir, KeyframeStoreSettings.FileName);
        if (!File.Exists(manifest))
            throw new SettingException("Keyframes", $"{dir} is not a keyframe store (no " +
                $"{KeyframeStoreSettings.FileName}).");
        var settings = Read(manifest);
        var shards = new Shard[settings.Shards];
        for (int s = 0; s < shards.Length; s++)
            shards[s] = TryLoadShard(ShardPath(dir, s), settings, s) ?? throw new SettingException("Keyframes",
                $"{dir} lacks shard {s} of {shards.Length} (or it is damaged); build the store again with the same " +
                "settings to finish it.");
        return new KeyframeStore(settings, shards);
    }

    private static KeyframeStoreSettings Read(string manifest) =>
        StrictJson.Load<KeyframeStoreSettings>(manifest, "keyframe store settings", validate: s => s.Validate());

    private static string Describe(KeyframeStoreSettings s) =>
        $"{s.Stories} stories x {s.UnitsPerStory} units of {s.Length} from levels {string.Join(",", s.Levels)}, " +
        $"{s.Frames} frames, seed {s.Seed}, VAE {s.Vae}";

    private static int StoriesIn(KeyframeStoreSettings s, int shard) =>
        Math.Min(s.ShardSize, s.Stories - shard * s.ShardSize);

    private static Shard? TryLoadShard(string path, KeyframeStoreSettings settings, int shard)
    {
        if (!File.Exists(path)) return null;
        try
        {
            using var f = SafeTensorsFile.Open(path);
            var latents = f.LoadAll()["latents"];
            var captions = JsonSerializer.Deserialize<string[]>(f.Metadata["captions"])!;
            var positions = JsonSerializer.Deserialize<int[][]>(f.Metadata["positions"])!;
            var starts = JsonSerializer.Deserialize<int[]>(f.Metadata["starts"])!;
            // Stores of global units only were written before the given flags were recorded: nothing is given.
            var given = f.Metadata.TryGetValue("given", out var g) ? JsonSerializer.Deserialize<bool[][]>(g)!
                : positions.Select(p => new bool[p.Length]).ToArray();
            int stories = StoriesIn(settings, shard), units = settings.UnitsPerStory * stories;
            int frames = positions.Sum(p => p.Length) * stories;
            if (latents.Shape[0] != frames || captions.Length != frames || starts.Length != units
                || positions.Length != settings.UnitsPerStory || given.Length != positions.Length
                || positions.Any(p => p.Length < 2 || p.Length > settings.Length)
                || given.Zip(positions).Any(x => x.First.Length != x.Second.Length))
                return null;
            return new Shard(latents, captions, positions, given, starts, stories);
        }
        catch (Exception e) when (e is SafeTensorsFormatException or JsonException or KeyNotFoundException)
        {
            return null; // damaged or foreign: written again
        }
    }

    /// <summary>Draws the shard's units, renders their keyframes, encodes them and writes the shard.</summary>
    private static void WriteShard(string dir, KeyframeStoreSettings s, int shard, AutoencoderKL vae,
        CancellationToken ct)
    {
        var rng = new Rng(s.Seed).Derive(0x6b657966, (ulong)shard);
        int stories = StoriesIn(s, shard);
        var toonworld = new ToonworldStories(s.Toonworld);
        var frames = new List<(int Story, int Frame)>();
        var positions = new int[s.UnitsPerStory][];
        var given = new bool[s.UnitsPerStory][];
        var starts = new List<int>();
        for (int r = 0; r < s.UnitsPerStory; r++)
        {
            var template = LongVideoSampling.SampleRequest(s.Levels[r % s.Levels.Length], s.Length, s.Frames, rng);
            positions[r] = template.Frames.Select(f => f - template.Frames[0]).ToArray();
            given[r] = template.Given;
            for (int i = 0; i < stories; i++)
            {
                var unit = LongVideoSampling.Like(template, s.Frames, rng).Frames;
                starts.Add(unit[0]);
                frames.AddRange(unit.Select(f => (i, f)));
            }
        }
        var pixels = new Tensor[frames.Count];
        var captions = new string[frames.Count];
        Threads.For(frames.Count, 8, (a, b) =>
        {
            for (int k = a; k < b; k++)
            {
                var (picture, caption, _) = toonworld.Frame(shard * s.ShardSize + frames[k].Story, frames[k].Frame);
                pixels[k] = picture.ToTensor();
                captions[k] = caption;
            }
        });
        const int batch = 64;
        var latents = new List<Tensor>();
        using (Tensor.NoGrad())
            for (int k = 0; k < frames.Count; k += batch)
            {
                ct.ThrowIfCancellationRequested();
                var x = Ops.Stack(pixels[k..Math.Min(frames.Count, k + batch)], 0);
                latents.Add(vae.ScaleLatents(vae.Encode(x, frames: 1).Mean));
            }
        SafeTensors.Save(ShardPath(dir, shard), new Dictionary<string, Tensor> { ["latents"] = Ops.Concat(latents, 0) },
            DType.F16, new Dictionary<string, string>
            {
                ["captions"] = JsonSerializer.Serialize(captions), ["positions"] = JsonSerializer.Serialize(positions),
                ["starts"] = JsonSerializer.Serialize(starts), ["given"] = JsonSerializer.Serialize(given),
            });
    }

    /// <summary>
    /// Draws <paramref name="count"/> units of one shape: a shard and a slot, then stories of that shard (with
    /// replacement). Returns (shard, slot, stories).
    /// </summary>
    public (int Shard, int Slot, int[] Stories) Draw(Rng rng, int count)
    {
        int shard = rng.NextInt(_shards.Length), slot = rng.NextInt(Settings.UnitsPerStory);
        var stories = Enumerable.Range(0, count).Select(_ => rng.NextInt(_shards[shard].Stories)).ToArray();
        return (shard, slot, stories);
    }

    /// <summary>Frame positions of a slot's units, relative to their first frame.</summary>
    public int[] Positions(int shard, int slot) => _shards[shard].Positions[slot];

    /// <summary>Which frames of a slot's units are given (a local unit's ends).</summary>
    public bool[] Given(int shard, int slot) => _shards[shard].Given[slot];

    /// <summary>The hierarchy level of a slot's units.</summary>
    public int Level(int slot) => Settings.Levels[slot % Settings.Levels.Length];

    /// <summary>Which Toonworld story (episode index under the store's settings) and frames a unit holds.</summary>
    public (int Story, int[] Frames) Source(int shard, int slot, int story)
    {
        int start = _shards[shard].Starts[slot * _shards[shard].Stories + story];
        return (shard * Settings.ShardSize + story, Positions(shard, slot).Select(p => start + p).ToArray());
    }

    /// <summary>Ground truth of one unit's frames (where its characters stand), rendered again from its story's
    /// script: the store keeps only latents and captions.</summary>
    public FrameAnnotation[] Annotations(int shard, int slot, int story)
    {
        var (index, frames) = Source(shard, slot, story);
        return frames.Select(f => _stories.Annotation(index, f)).ToArray();
    }

    /// <summary>Scaled latents [frames, c, h, w] of one unit.</summary>
    public Tensor Latents(int shard, int slot, int story) =>
        _shards[shard].Latents.Narrow(0, Offset(shard, slot, story), Positions(shard, slot).Length).Contiguous();

    /// <summary>Captions of one unit's frames.</summary>
    public ArraySegment<string> UnitCaptions(int shard, int slot, int story) =>
        new(_shards[shard].Captions, Offset(shard, slot, story), Positions(shard, slot).Length);

    private int Offset(int shard, int slot, int story) =>
        _shards[shard].SlotOffsets[slot] + story * Positions(shard, slot).Length;
}
