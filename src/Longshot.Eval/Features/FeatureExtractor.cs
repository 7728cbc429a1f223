using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using Longshot.Eval.Attributes;
using Longshot.Tensors;
using Longshot.Tensors.IO;
using Longshot.Tensors.Nn;

namespace Longshot.Eval.Features;

/// <summary>config.json of the evaluation feature extractor.</summary>
public sealed record FeatureExtractorConfig
{
    [JsonPropertyName("_class_name")] public string ClassName { get; init; } = "ToonworldFeatureExtractor";
    [JsonPropertyName("image_size")] public int ImageSize { get; init; } = 64;
    [JsonPropertyName("frame_channels")] public int[] FrameChannels { get; init; } = { 32, 32, 64, 64, 128 };
    [JsonPropertyName("frame_feature_dim")] public int FrameFeatureDim { get; init; } = 64;
    [JsonPropertyName("clip_channels")] public int[] ClipChannels { get; init; } = { 16, 32, 64, 64 };
    [JsonPropertyName("clip_feature_dim")] public int ClipFeatureDim { get; init; } = 32;
    [JsonPropertyName("clip_frames")] public int ClipFrames { get; init; } = 16;
    /// <summary>Mean absolute pixel change (0..1 scale) above which two consecutive frames count as a cut; set from
    /// real data in training.</summary>
    [JsonPropertyName("cut_threshold")] public float CutThreshold { get; init; } = 0.1f;

    public void Validate()
    {
        if (FrameChannels.Length < 2 || ClipChannels.Length < 2)
            throw new LongshotException("feature extractor config: needs at least two channel entries per encoder.");
        if (FrameChannels.Concat(ClipChannels).Any(c => c % 8 != 0))
            throw new LongshotException("feature extractor config: channel counts must be multiples of 8 (group " +
            "norm).");
        if (ImageSize >> (FrameChannels.Length - 1) < 1 || ImageSize >> ClipChannels.Length < 1)
            throw new LongshotException("feature extractor config: too many downsamplings for the image size.");
        if (ClipFrames < 2) throw new LongshotException("feature extractor config: clip_frames must be >= 2.");
    }
}

/// <summary>
/// The Inception/I3D stand-ins for Toonworld: a frame encoder whose penultimate layer gives FID-style features and
/// whose head predicts <see cref="FrameAttributes"/>, and a clip encoder over 16 frames (per-frame convolutions, then
/// temporal convolutions) whose penultimate layer gives FVD-style features and whose head predicts the actions
/// seen, whether the clip contains a cut, and the frame attributes of its middle frame. Both are trained on real
/// Toonworld frames with their ground-truth annotations (<see cref="ExtractorTrainer"/>).
/// Saved as a folder (config.json + model.safetensors) or as one .safetensors file with the config in its
/// metadata; <see cref="Sha256"/> pins the weights so scores are comparable across runs.
/// </summary>
public sealed class FeatureExtractor : Module
{
    public const string WeightsFile = "model.safetensors";
    /// <summary>Actions the clip head predicts (the Toonworld action vocabulary).</summary>
    public static readonly string[] Actions = Enum.GetNames<Video.Toonworld.CharacterAction>()
        .Select(n => n.ToLowerInvariant()).ToArray();
    /// <summary>Clip head layout: actions, then one "contains a cut" logit, then the middle frame's
    /// attributes.</summary>
    public static int ClipTargets => Actions.Length + 1 + FrameAttributes.Count;

    public FeatureExtractorConfig Config { get; }
    public ParameterStore Store { get; }
    /// <summary>SHA-256 of the weights file this extractor was loaded from (null when freshly created).</summary>
    public string? Sha256 { get; private set; }

    private readonly Conv2d _frameIn;
    private readonly List<(Conv2d Conv, GroupNorm Norm)> _frameDown = new();
    private readonly Linear _frameProj, _frameHead;
    private readonly Conv2d _framePresence;
    private readonly Conv2d _clipIn;
    private readonly List<(Conv2d Conv, GroupNorm Norm)> _clipDown = new();
    private readonly Conv1d _clipTemporal1, _clipTemporal2;
    private readonly Linear _clipProj, _clipHead, _clipFrameHead;

    private FeatureExtractor(FeatureExtractorConfig c, ParameterStore store, VarBuilder vb)
    {
        c.Validate();
        Config = c; Store = store;
        var f = vb.Pp("frame_encoder");
        _frameIn = Child(new Conv2d(f.Pp("conv_in"), 3, c.FrameChannels[0], 3, padding: 1));
        for (int i = 1; i < c.FrameChannels.Length; i++)
            _frameDown.Add((Child(new Conv2d(f.Pp("down").Pp(i - 1).Pp("conv"), c.FrameChannels[i - 1],
                c.FrameChannels[i], 3, stride: 2, padding: 1)),
                Child(new GroupNorm(f.Pp("down").Pp(i - 1).Pp("norm"), 8, c.FrameChannels[i]))));
        _frameProj = Child(new Linear(f.Pp("proj"), c.FrameChannels[^1], c.FrameFeatureDim));
        _frameHead = Child(new Linear(f.Pp("head"), c.FrameFeatureDim, FrameAttributes.ShirtAt));
        // Presence (shirts, accessories, bodies) is decided per location of the 8x8 map and max-pooled: "is there a
        // blue shirt anywhere" must be seen, not guessed from the scene (a global head learns which cast goes with
        // which background and fails on new casts).
        _framePresence = Child(new Conv2d(f.Pp("presence"), c.FrameChannels[PresenceLevel(c)],
            FrameAttributes.Count - FrameAttributes.ShirtAt, 1));
        var v = vb.Pp("clip_encoder");
        _clipIn = Child(new Conv2d(v.Pp("conv_in"), 3, c.ClipChannels[0], 3, stride: 2, padding: 1));
        for (int i = 1; i < c.ClipChannels.Length; i++)
            _clipDown.Add((Child(new Conv2d(v.Pp("down").Pp(i - 1).Pp("conv"), c.ClipChannels[i - 1],
                c.ClipChannels[i], 3, stride: 2, padding: 1)),
                Child(new GroupNorm(v.Pp("down").Pp(i - 1).Pp("norm"), 8, c.ClipChannels[i]))));
        int w = c.ClipChannels[^1];
        _clipTemporal1 = Child(new Conv1d(v.Pp("temporal").Pp(0), w, w, 3, padding: 1));
        _clipTemporal2 = Child(new Conv1d(v.Pp("temporal").Pp(1), w, w, 3, padding: 1));
        _clipProj = Child(new Linear(v.Pp("proj"), w, c.ClipFeatureDim));
        _clipHead = Child(new Linear(v.Pp("head"), c.ClipFeatureDim, ClipTargets));
        // Per-frame attributes from the clip trunk: dense supervision for it (every frame of every clip), training
        // only.
        _clipFrameHead = Child(new Linear(v.Pp("frame_head"), w, FrameAttributes.Count));
    }

    /// <summary>A freshly initialised extractor (for training).</summary>
    public static FeatureExtractor Create(FeatureExtractorConfig c, ulong seed)
    {
        var store = new ParameterStore();
        return new FeatureExtractor(c, store, VarBuilder.Fresh(store, seed));
    }

    /// <summary>Frame features [N, FrameFeatureDim] and attribute logits [N, FrameAttributes.Count] of frames [N, 3, H,
    /// W] in [-1, 1].</summary>
    public (Tensor Features, Tensor Logits) Frames(Tensor frames)
    {
        CheckFrames(frames);
        var h = Ops.Silu(_frameIn.Forward(frames));
        Tensor? presence = null;
        for (int i = 0; i < _frameDown.Count; i++)
        {
            h = _frameDown[i].Norm.Forward(_frameDown[i].Conv.Forward(h), silu: true);
            if (i + 1 == PresenceLevel(Config))
            {
                var map = _framePresence.Forward(h);                            // [N, P, h, w]
                presence = Ops.Max(map.Reshape(map.Shape[0], map.Shape[1], map.Shape[2] * map.Shape[3]), 2);
            }
        }
        var feat = _frameProj.Forward(Ops.Mean(h, new[] { 2, 3 }));
        return (feat, Ops.Concat(new[] { _frameHead.Forward(Ops.Silu(feat)), presence! }, 1));
    }

    /// <summary>
    /// Clip features [B, ClipFeatureDim], clip logits [B, ClipTargets] and per-frame attribute logits
    /// [B * ClipFrames, FrameAttributes.Count] of clips [B * ClipFrames, 3, H, W].
    /// </summary>
    public (Tensor Features, Tensor Logits, Tensor FrameLogits) Clips(Tensor frames)
    {
        CheckFrames(frames);
        int t = Config.ClipFrames, n = frames.Shape[0];
        if (n % t != 0) throw new LongshotException($"feature extractor: {n} frames are not whole clips of {t}.");
        var h = Ops.Silu(_clipIn.Forward(frames));
        foreach (var (conv, norm) in _clipDown) h = norm.Forward(conv.Forward(h), silu: true);
        var perFrame = Ops.Mean(h, new[] { 2, 3 });                       // [B*T, C]
        int c = perFrame.Shape[1];
        var seq = perFrame.Reshape(n / t, t, c).Transpose(1, 2).Contiguous(); // [B, C, T]
        seq = Ops.Silu(_clipTemporal1.Forward(seq));
        seq = seq + Ops.Silu(_clipTemporal2.Forward(seq));
        var feat = _clipProj.Forward(Ops.Mean(seq, 2));
        return (feat, _clipHead.Forward(Ops.Silu(feat)), _clipFrameHead.Forward(perFrame));
    }

    /// <summary>Index into FrameChannels of the map the presence head reads: the one at 8x8 for 64x64 frames (or the
    /// last).</summary>
    private static int PresenceLevel(FeatureExtractorConfig c) =>
        Math.Min(c.FrameChannels.Length - 1, Math.Max(1, (int)Math.Log2(c.ImageSize / 8)));

    private void CheckFrames(Tensor x)
    {
        if (x.Rank != 4 || x.Shape[1] != 3 || x.Shape[2] != Config.ImageSize || x.Shape[3] != Config.ImageSize)
            throw new LongshotException($"feature extractor: expected frames [N, 3, {Config.ImageSize}, " +
                $"{Config.ImageSize}], got {x}.");
    }

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    /// <summary>Saves config.json and model.safetensors (atomically) into a folder.</summary>
    public void Save(string folder)
    {
        Directory.CreateDirectory(folder);
        Store.Save(Path.Combine(folder, WeightsFile), DType.F32,
            new Dictionary<string, string> { ["config"] = JsonSerializer.Serialize(Config) });
        AtomicFile.WriteAllText(Path.Combine(folder, "config.json"), JsonSerializer.Serialize(Config, Json));
        Sha256 = HashFile(Path.Combine(folder, WeightsFile));
    }

    /// <summary>
    /// Loads a folder (config.json + model.safetensors) or a single .safetensors file carrying its config in the
    /// "config" metadata entry. With <paramref name="expectedSha256"/>, weights that differ are refused.
    /// </summary>
    public static FeatureExtractor Load(string path, string? expectedSha256 = null)
    {
        string weights = Directory.Exists(path) ? Path.Combine(path, WeightsFile) : path;
        if (!File.Exists(weights)) throw new LongshotException($"feature extractor not found: {weights}");
        var hash = HashFile(weights);
        if (expectedSha256 != null && !string.Equals(hash, expectedSha256, StringComparison.OrdinalIgnoreCase))
            throw new LongshotException($"{weights}: SHA-256 {hash} is not the pinned extractor ({expectedSha256}); " +
                $"scores would not be comparable. Pass it explicitly to use it anyway.");
        using var file = SafeTensorsFile.Open(weights);
        FeatureExtractorConfig config;
        var configPath = Directory.Exists(path) ? Path.Combine(path, "config.json") : null;
        try
        {
            string json = configPath != null && File.Exists(configPath) ? File.ReadAllText(configPath)
                : file.Metadata.TryGetValue("config", out var meta) ? meta
                : throw new LongshotException($"{weights}: no config.json beside it and no \"config\" entry in its " +
                    $"metadata.");
            config = StrictJson.Parse<FeatureExtractorConfig>(json, configPath ?? weights, "feature extractor config",
                Json);
        }
        catch (JsonException e) { throw new LongshotException($"{path}: not a valid feature extractor config " +
            $"({e.Message})."); }
        var store = new ParameterStore();
        var fx = new FeatureExtractor(config, store, VarBuilder.Fresh(store));
        store.Load(SafeTensors.Load(weights), true, weights);
        fx.Sha256 = hash;
        fx.Eval();
        return fx;
    }

    private static string HashFile(string path)
    {
        using var s = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(s));
    }
}
