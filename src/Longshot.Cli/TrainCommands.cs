using System.Globalization;
using Longshot.Diffusion;
using Longshot.Diffusion.Training;
using Longshot.Diffusion.Vae;

namespace Longshot.Cli;

/// <summary>`longshot train ...`: model training with progress, checkpoints and exact resume.</summary>
internal static class TrainCommands
{
    public const string Usage = """
          train vae --data DIR --out DIR [--stage image|video] [--steps N] [--batch N] [--clip-frames 8] [--lr 1e-3]
                    [--init MODEL_DIR] [--channels 32,64,64] [--temporal-init identity|random] [--no-temporal]
                    [--train-spatial] [--seed N] [--checkpoint-every N] [--validate-every N]
                                       Stage 1 (image) then stage 2 (video, temporal layers on --init's image VAE).
                                       Rerun the same command to resume after an interruption.
          train global|local --data DIR --out DIR [--vae VAE_DIR] [--length 16] [--depth 3] [--steps N] [--batch N]
                    [--lr 4e-4] [--channels 32,64] [--no-mi] [--no-si] [--levels 2,3] [--raw-weights] [--seed N] [--checkpoint-every N]
                    [--prediction v|epsilon] [--init MODEL_DIR]
                                       Mask Temporal Diffusion trained directly on long videos: the global model on
                                       L frames at stride (L-1)^(m-1), the local model on every lower level
                                       (--levels K: a model for level K only, as the paper trains them).
          eval vae --model MODEL_DIR --data DIR [--clip-frames 8] [--images]
                                       Validation PSNR, SSIM and temporal-consistency error.
        """;

    public static int Train(string[] args, CancellationToken ct)
    {
        if (args.Length > 0 && args[0] is "global" or "local") return TrainMtd(args[0], args[1..], ct);
        if (args.Length > 0 && args[0] == "extractor") return EvalCommands.TrainExtractor(args[1..], ct);
        if (args.Length == 0 || args[0] != "vae") throw new ArgumentException("train: expected vae, global, local or extractor.");
        var a = new Args("train vae", args[1..], new HashSet<string> { "quiet", "no-temporal", "train-spatial" });
        var channels = a.IntList("channels", 1);
        var o = new VaeTrainOptions
        {
            Data = a.Require("data"), Out = a.Require("out"), Stage = a.Get("stage") ?? "image",
            Steps = a.Int("steps", 2000, 1), Batch = a.Int("batch", 8, 1), ClipFrames = a.Int("clip-frames", 8, 2),
            LearningRate = (float)a.Double("lr", 1e-3, 1e-9), KlWeight = (float)a.Double("kl-weight", 1e-6, 0),
            CheckpointEvery = a.Int("checkpoint-every", 200, 1), ValidateEvery = a.Int("validate-every", 500, 1),
            Seed = (ulong)a.Int("seed", 1, 0), InitFrom = a.Get("init"), TemporalInit = a.Get("temporal-init") ?? "identity",
            NoTemporal = a.Flag("no-temporal"), TrainSpatial = a.Flag("train-spatial"),
            Config = channels != null ? new AutoencoderKLConfig { BlockOutChannels = channels } : null,
        };
        bool quiet = a.Flag("quiet");
        a.CheckAllUsed();
        var progress = new SyncProgress<VaeTrainProgress>(p =>
        {
            if (quiet && p.Validation == null) return;
            if (p.Step % 25 == 0 || p.Step == 1 || p.Validation != null)
                Console.WriteLine($"step {p.Step,6}/{p.Steps}  loss {p.Loss:F5}  psnr {p.Psnr,5:F2} dB  {p.FramesPerSecond,6:F1} frames/s  eta {p.Eta:hh\\:mm\\:ss}");
            if (p.Validation is { } v)
                Console.WriteLine($"  validation: psnr {v.Psnr:F2} dB  ssim {v.Ssim:F4}  temporal error {v.TemporalError:F3}  ({v.Frames} frames)");
        });
        var (_, val) = VaeTrainer.Train(o, progress, ct);
        Console.WriteLine($"saved {Path.Combine(Path.GetFullPath(o.Out), "vae")}  (validation psnr {val.Psnr:F2} dB, ssim {val.Ssim:F4}, temporal error {val.TemporalError:F3})");
        return 0;
    }

    private static int TrainMtd(string role, string[] args, CancellationToken ct)
    {
        var a = new Args($"train {role}", args, new HashSet<string> { "quiet", "no-mi", "no-si", "raw-weights" });
        var channels = a.IntList("channels", 1) ?? new[] { 32, 64 };
        var o = new MtdTrainOptions
        {
            Data = a.Require("data"), Vae = a.Get("vae") ?? ShippedModels.Vae(), Out = a.Require("out"), Role = role,
            Length = a.Int("length", 16, 3), Depth = a.Int("depth", 3, 1, 6), Steps = a.Int("steps", 1000, 1), Batch = a.Int("batch", 1, 1),
            ExportRaw = a.Flag("raw-weights"), InitFrom = a.Get("init"),
            PredictionType = a.Get("prediction") switch { null or "v" => "v_prediction", "epsilon" => "epsilon", var p => throw new ArgumentException($"train {role}: --prediction is v or epsilon, got '{p}'.") },
            Levels = a.IntList("levels", 1),
            LearningRate = (float)a.Double("lr", 4e-4, 1e-9), CheckpointEvery = a.Int("checkpoint-every", 100, 1), Seed = (ulong)a.Int("seed", 1, 0),
            Unet = new Longshot.Diffusion.Unet.MaskUnetConfig
            {
                BlockOutChannels = channels, AttentionLevels = channels.Select(_ => true).ToArray(),
                MultiScaleInjection = !a.Flag("no-mi"), SymmetricInjection = !a.Flag("no-si"),
            },
        };
        bool quiet = a.Flag("quiet");
        a.CheckAllUsed();
        var progress = new SyncProgress<MtdTrainProgress>(p =>
        {
            if (!quiet && (p.Step % 10 == 0 || p.Step == 1 || p.Step == p.Steps))
                Console.WriteLine($"step {p.Step,6}/{p.Steps}  level {p.Level}  loss {p.Loss:F5}  {p.ClipsPerSecond:F2} clips/s  eta {p.Eta:hh\\:mm\\:ss}");
        });
        var cache = new SyncProgress<(int Done, int Total)>(c => { if (!quiet) Console.WriteLine($"latent cache: episode {c.Done}/{c.Total} ready"); });
        MtdTrainer.Train(o, progress, ct, cache);
        Console.WriteLine($"saved {Path.GetFullPath(o.Out)} (unet, text_encoder, tokenizer, scheduler)");
        return 0;
    }

    public static int Eval(string[] args)
    {
        if (args.Length == 0 || args[0] != "vae") throw new ArgumentException("eval: expected 'vae'.");
        var a = new Args("eval vae", args[1..], new HashSet<string> { "images", "json" });
        string model = a.Require("model"), data = a.Require("data");
        int clip = a.Int("clip-frames", 8, 2);
        bool images = a.Flag("images"), json = a.Flag("json");
        a.CheckAllUsed();
        var v = VaeTrainer.Evaluate(model, data, clip, asVideo: !images);
        Console.WriteLine(json
            ? System.Text.Json.JsonSerializer.Serialize(new { psnr = v.Psnr, ssim = v.Ssim, temporal_error = v.TemporalError, frames = v.Frames })
            : $"psnr {v.Psnr:F2} dB  ssim {v.Ssim:F4}  temporal error {v.TemporalError:F3}  ({v.Frames} frames)");
        return 0;
    }

}
