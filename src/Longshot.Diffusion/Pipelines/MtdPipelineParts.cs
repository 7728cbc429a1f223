using System.Text.Json;
using Longshot.Diffusion.Schedulers;
using Longshot.Diffusion.Text;
using Longshot.Diffusion.Unet;
using Longshot.Tensors;
using Longshot.Tensors.Devices;
using Longshot.Tensors.IO;
using Longshot.Tensors.Nn;

namespace Longshot.Diffusion.Pipelines;

/// <summary>
/// An MTD with what it needs to run: UNet, text encoder, tokenizer and noise schedule. Saved as a diffusers-style
/// folder: model_index.json, unet/, text_encoder/, tokenizer/tokenizer.json, scheduler/scheduler_config.json.
/// </summary>
public sealed class MtdPipelineParts
{
    public MaskUnet3D Unet { get; }
    public TextEncoder TextEncoder { get; }
    public ParameterStore TextParameters { get; }
    public WordTokenizer Tokenizer { get; }
    public NoiseSchedule Schedule { get; }
    /// <summary>UNet and text encoder parameters together ("unet.", "text_encoder.").</summary>
    public ParameterStore Parameters { get; }
    /// <summary>Where the parameters live, and so where sampling runs (<see cref="ToDevice"/>).</summary>
    public Device Device => Parameters.Named.Select(p => p.Value.Device).FirstOrDefault(Device.Cpu);

    /// <summary>Moves the UNet's and the text encoder's parameters to <paramref name="device"/>; samplers over these
    /// parts then run there, taking and returning host latents.</summary>
    public void ToDevice(Device device) => Parameters.ToDevice(device);

    private MtdPipelineParts(MaskUnet3D unet, TextEncoder text, ParameterStore textParams, WordTokenizer tok,
        NoiseSchedule schedule)
    {
        Unet = unet; TextEncoder = text; TextParameters = textParams; Tokenizer = tok; Schedule = schedule;
        Parameters = ParameterStore.Combine(("unet", unet.Parameters), ("text_encoder", textParams));
    }

    public static MtdPipelineParts Create(MaskUnetConfig unet, TextEncoderConfig text, WordTokenizer tok,
        SchedulerConfig sched, ulong seed)
    {
        if (text.VocabSize != tok.VocabularySize || text.MaxLength != tok.MaxLength)
            throw new LongshotException($"text encoder config (vocab {text.VocabSize}, length {text.MaxLength}) does " +
                $"not match the tokenizer (vocab {tok.VocabularySize}, length {tok.MaxLength}).");
        if (unet.CrossAttentionDim != text.Hidden) unet = unet with { CrossAttentionDim = text.Hidden };
        var textParams = new ParameterStore();
        var enc = new TextEncoder(VarBuilder.Fresh(textParams, seed + 1), text);
        return new MtdPipelineParts(MaskUnet3D.Create(unet, seed), enc, textParams, tok, new NoiseSchedule(sched));
    }

    /// <summary>Per-frame prompt embeddings [N, l_p, d_p] for N captions.</summary>
    public Tensor EncodePrompts(IReadOnlyList<string> captions)
    {
        // Identical captions (consecutive frames of a shot) are encoded once.
        var distinct = captions.Distinct().ToList();
        var ids = distinct.SelectMany(Tokenizer.Encode).ToArray();
        var emb = TextEncoder.Forward(ids, distinct.Count);
        var index = distinct.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => p.i);
        var rows = captions.Select(c => emb.Narrow(0, index[c], 1)).ToList();
        return rows.Count == 1 ? rows[0] : Ops.Concat(rows, 0);
    }

    public void Save(string folder)
    {
        Directory.CreateDirectory(folder);
        Unet.Save(Path.Combine(folder, "unet"));
        var te = Path.Combine(folder, "text_encoder");
        Directory.CreateDirectory(te);
        TextParameters.Save(Path.Combine(te, "model.safetensors"));
        TextEncoder.Config.Save(Path.Combine(te, "config.json"));
        Directory.CreateDirectory(Path.Combine(folder, "tokenizer"));
        Tokenizer.Save(Path.Combine(folder, "tokenizer", "tokenizer.json"));
        Directory.CreateDirectory(Path.Combine(folder, "scheduler"));
        Schedule.Config.Save(Path.Combine(folder, "scheduler", "scheduler_config.json"));
        AtomicFile.WriteAllText(Path.Combine(folder, "model_index.json"),
            JsonSerializer.Serialize(new Dictionary<string, string[]>
        {
            ["unet"] = new[] { "longshot", "MaskUNet3DModel" }, ["text_encoder"] = new[] { "longshot", "TextEncoder" },
            ["tokenizer"] = new[] { "longshot", "WordTokenizer" },
                ["scheduler"] = new[] { "diffusers", "DDPMScheduler" },
        }, new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>The components a model folder's model_index.json must name.</summary>
    private static readonly string[] Components = { "unet", "text_encoder", "tokenizer", "scheduler" };

    /// <summary>Throws a one-line <see cref="LongshotException"/> unless <paramref name="folder"/> exists and holds
    /// a model_index.json (the cheap check, before any file is read).</summary>
    public static void RequireFolder(string folder)
    {
        if (!Directory.Exists(folder)) throw new LongshotException($"model folder not found: {folder}");
        if (!File.Exists(Path.Combine(folder, "model_index.json")))
            throw new LongshotException($"{folder} has no model_index.json: not a model folder.");
    }

    /// <summary>model_index.json must be a JSON object naming every component as [library, class].</summary>
    private static void CheckModelIndex(string folder)
    {
        RequireFolder(folder);
        var path = Path.Combine(folder, "model_index.json");
        var index = StrictJson.Load<Dictionary<string, string[]>>(path, "model index");
        foreach (var c in Components)
            if (!index.TryGetValue(c, out var entry) || entry is not { Length: 2 } || entry.Any(string.IsNullOrEmpty))
                throw new LongshotException($"{path}: not a valid model index (\"{c}\" must be [library, class]).");
    }

    /// <summary>Loads a model folder saved by <see cref="Save"/>; every file is checked strictly.</summary>
    public static MtdPipelineParts Load(string folder)
    {
        CheckModelIndex(folder);
        var tok = WordTokenizer.Load(Path.Combine(folder, "tokenizer", "tokenizer.json"));
        var textCfg = TextEncoderConfig.Load(Path.Combine(folder, "text_encoder", "config.json"));
        if (textCfg.VocabSize != tok.VocabularySize || textCfg.MaxLength != tok.MaxLength)
            throw new LongshotException($"{folder}: the text encoder (vocab {textCfg.VocabSize}, length " +
                                        $"{textCfg.MaxLength}) does not match the tokenizer (vocab " +
                                        $"{tok.VocabularySize}, length {tok.MaxLength}).");
        var textParams = new ParameterStore();
        var enc = new TextEncoder(VarBuilder.Fresh(textParams), textCfg);
        var tw = Path.Combine(folder, "text_encoder", "model.safetensors");
        textParams.Load(SafeTensors.Load(tw), true, tw);
        var unet = MaskUnet3D.Load(Path.Combine(folder, "unet"));
        var sched = new NoiseSchedule(SchedulerConfig.Load(Path.Combine(folder, "scheduler", "scheduler_config.json")));
        return new MtdPipelineParts(unet, enc, textParams, tok, sched);
    }
}
