using System.CommandLine;
using Longshot.Diffusion;
using Longshot.Diffusion.Schedulers;
using Longshot.Diffusion.Training;
using Longshot.Diffusion.Unet;
using Longshot.Diffusion.Vae;
using Longshot.Eval.Features;

namespace Longshot.Cli.Commands;

/// <summary>`longshot train vae|global|local|extractor`: training with progress, atomic checkpoints and exact
/// resume.</summary>
internal static class TrainCommands
{
    public static Command Create()
    {
        var train = new Command("train",
            "Train the T-KLVAE, the global or local MTD, or the evaluation feature extractor. " +
                                         "Rerun the same command to resume after an interruption.");
        foreach (var c in new[] { Vae(), Mtd(TrainingRole.Global), Mtd(TrainingRole.Local),
            VideoModel(TrainingRole.Base), VideoModel(TrainingRole.Extend), Extractor() })
            train.Subcommands.Add(c);
        return train;
    }

    private static Command Vae()
    {
        var d = VaeTrainOptions.Defaults;
        var data = CliOptions.Text("--data", "dataset folder", "DIR", true);
        var outDir = CliOptions.Text("--out", "run folder (checkpoint and the model in OUT/vae)", "DIR", true);
        var stage = CliOptions.Choice("--stage",
            "image: stage 1; video: stage 2, temporal layers on --init's image VAE; decoder: --init's decoder tuned, " +
            "its encoder (the latent space) frozen", TrainingNames.Names<VaeStage>());
        var steps = CliOptions.Int("--steps", "training steps", d.Steps, 1, 10_000_000);
        var batch = CliOptions.Int("--batch", "clips per step", d.Batch, 1, 4096);
        var clipFrames = CliOptions.Int("--clip-frames", "frames per clip (stage 2)", d.ClipFrames, 2, 1024);
        var lr = CliOptions.Number("--lr", "learning rate", d.LearningRate, 1e-9, 10);
        var kl = CliOptions.Number("--kl-weight", "weight of the KL term", d.KlWeight, 0, 1);
        var init = CliOptions.VaeFolder("--init", "VAE folder stage 2 (or the decoder stage) starts from");
        var channels = CliOptions.IntList("--channels", "block output channels (default 32,64,64)", 1, 4096);
        var temporalInit = CliOptions.Choice("--temporal-init", "how new temporal layers start", "identity", "random");
        var noTemporal = CliOptions.Flag("--no-temporal", "stage 2 without temporal layers (the ablation)");
        var trainSpatial = CliOptions.Flag("--train-spatial", "stage 2 trains the spatial layers too");
        var seed = CliOptions.Seed();
        var checkpointEvery = CliOptions.Int("--checkpoint-every", "steps between checkpoints", d.CheckpointEvery, 1);
        var validateEvery = CliOptions.Int("--validate-every", "steps between validations", d.ValidateEvery, 1);
        var quiet = CliOptions.Flag("--quiet", "only validation lines");
        var zero = ZeroOption();
        var device = TrainDevice();
        var c = new Command("vae", "Train the temporal KL-VAE: stage 1 (image) then stage 2 (video).")
            .With(data, outDir, stage, steps, batch, clipFrames, lr, kl, init, channels, temporalInit, noTemporal,
                trainSpatial, seed, checkpointEvery, validateEvery, quiet, zero, device);
        return c.Runs((p, ct) =>
        {
            var ch = CliOptions.Ints(p.GetValue(channels));
            var o = new VaeTrainOptions
            {
                Data = p.GetValue(data)!, Out = p.GetValue(outDir)!,
                Stage = TrainingNames.Parse<VaeStage>(p.GetValue(stage)!, nameof(VaeTrainOptions.Stage)),
                Steps = p.GetValue(steps),
                Batch = p.GetValue(batch), ClipFrames = p.GetValue(clipFrames), LearningRate = (float)p.GetValue(lr),
                KlWeight = (float)p.GetValue(kl), CheckpointEvery = p.GetValue(checkpointEvery),
                ValidateEvery = p.GetValue(validateEvery), Zero = p.GetValue(zero),
                Seed = p.GetValue(seed), InitFrom = p.GetValue(init), TemporalInit = p.GetValue(temporalInit)!,
                NoTemporal = p.GetValue(noTemporal), TrainSpatial = p.GetValue(trainSpatial),
                Config = ch != null ? new AutoencoderKLConfig { BlockOutChannels = ch } : null,
                Device = DeviceOption.Open(p, device),
            };
            bool q = p.GetValue(quiet);
            if (!JobRanks.IsLeader) { VaeTrainer.Train(o, null, ct, JobRanks.Current); return 0; }
            AnnounceRanks(o.Batch, o.Zero, q);
            var progress = new SyncProgress<VaeTrainProgress>(r =>
            {
                if (q && r.Validation == null) return;
                if (r.Step % 25 == 0 || r.Step == 1 || r.Validation != null)
                    Console.WriteLine($"step {r.Step,6}/{r.Steps}  loss {r.Loss:F5}  psnr {r.Psnr,5:F2} dB  " +
                                      $"{r.FramesPerSecond,6:F1} frames/s  eta {r.Eta:hh\\:mm\\:ss}");
                if (r.Validation is { } v)
                    Console.WriteLine($"  validation: psnr {v.Psnr:F2} dB  ssim {v.Ssim:F4}  temporal error " +
                        $"{v.TemporalError:F3}  ({v.Frames} frames)");
            });
            var (_, val) = VaeTrainer.Train(o, progress, ct, JobRanks.Current);
            Console.WriteLine($"saved {Path.Combine(Path.GetFullPath(o.Out), "vae")}  (validation psnr {val.Psnr:F2} " +
                $"dB, " +
                              $"ssim {val.Ssim:F4}, temporal error {val.TemporalError:F3})");
            return 0;
        });
    }

    private static Command Mtd(TrainingRole role)
    {
        var d = MtdTrainOptions.Defaults;
        var data = CliOptions.Text("--data", "dataset folder (or --keyframes)", "DIR");
        var keyframes = CliOptions.Text("--keyframes", "keyframe store (`data keyframes`) to learn from instead of " +
            "--data's episodes", "DIR");
        var outDir = CliOptions.Text("--out", "model folder (and its checkpoint)", "DIR", true);
        var vae = CliOptions.VaeFolder("--vae",
            "T-KLVAE whose latents the model learns (default: models/toonworld-vae)");
        var length = CliOptions.Int("--length", "frames per clip (L)", d.Length, 3, 1024);
        var depth = CliOptions.Int("--depth", "levels of the hierarchy", d.Depth, 1, 6);
        var steps = CliOptions.Int("--steps", "training steps (0: save the initial, or --init, model)", d.Steps, 0,
            10_000_000);
        var batch = CliOptions.Int("--batch", "clips per step", d.Batch, 1, 4096);
        var lr = CliOptions.Number("--lr", "learning rate", d.LearningRate, 1e-9, 10);
        var channels = CliOptions.IntList("--channels", "UNet block output channels, multiples of 32 (default 32,64)",
            1, 4096);
        var noMi = CliOptions.Flag("--no-mi", "without multi-scale injection (ablation)");
        var noSi = CliOptions.Flag("--no-si", "without symmetric injection (ablation)");
        var levels = CliOptions.IntList("--levels", "local model: train on these levels only (default: 2..depth)", 2,
            6);
        var raw = CliOptions.Flag("--raw-weights", "export the last step's weights instead of the EMA");
        var seed = CliOptions.Seed();
        var checkpointEvery = CliOptions.Int("--checkpoint-every", "steps between checkpoints", d.CheckpointEvery, 1);
        var prediction = CliOptions.Choice("--prediction", "what the UNet predicts", "v", "epsilon");
        var spacing = CliOptions.Choice("--spacing", "frame spacings trained: requests (units as generation plans " +
            "them for request lengths up to the episode's) or hierarchy (the fixed strides of one full hierarchy)",
            TrainingNames.Names<FrameSpacing>());
        var init = CliOptions.ModelFolder("--init", "trained model folder a fresh run starts from");
        var figureWeight = CliOptions.Number("--figure-weight", "extra loss weight on the characters' boxes " +
            "(0: every latent cell alike; needs generated, annotated data)", 0, 0, 1000);
        var quiet = CliOptions.Flag("--quiet", "no progress output");
        var zero = ZeroOption();
        var device = TrainDevice();
        var c = new Command(role.Name(), role == TrainingRole.Global
                ? "Train the global MTD: L keyframes at stride (L-1)^(depth-1), nothing given."
                : "Train the local MTD on every lower level: first and last frames given.")
            .With(data, outDir, vae, length, depth, steps, batch, lr, channels, noMi, noSi, raw, seed, checkpointEvery,
                prediction, spacing, init, figureWeight, quiet, zero, device);
        if (role == TrainingRole.Local) c.Options.Add(levels);
        c.Options.Add(keyframes);
        return c.Runs((p, ct) =>
        {
            var ch = CliOptions.Ints(p.GetValue(channels)) ?? new[] { 32, 64 };
            var o = new MtdTrainOptions
            {
                Data = p.GetValue(data), Keyframes = p.GetValue(keyframes),
                Vae = p.GetValue(vae) ?? ShippedModels.Vae(), Out = p.GetValue(outDir)!, Role = role,
                Length = p.GetValue(length), Depth = p.GetValue(depth), Steps = p.GetValue(steps),
                Batch = p.GetValue(batch), Zero = p.GetValue(zero),
                ExportRaw = p.GetValue(raw), InitFrom = p.GetValue(init),
                PredictionType = p.GetValue(prediction) == "epsilon" ? PredictionType.Epsilon
                    : PredictionType.VPrediction,
                Spacing = TrainingNames.Parse<FrameSpacing>(p.GetValue(spacing)!, nameof(MtdTrainOptions.Spacing)),
                Levels = role == TrainingRole.Local ? CliOptions.Ints(p.GetValue(levels)) : null,
                LearningRate = (float)p.GetValue(lr),
                CheckpointEvery = p.GetValue(checkpointEvery), Seed = p.GetValue(seed),
                FigureWeight = (float)p.GetValue(figureWeight),
                Unet = new MaskUnetConfig
                {
                    BlockOutChannels = ch, AttentionLevels = ch.Select(_ => true).ToArray(),
                    MultiScaleInjection = !p.GetValue(noMi), SymmetricInjection = !p.GetValue(noSi),
                },
                Device = DeviceOption.Open(p, device),
            };
            return RunMtd(o, p.GetValue(quiet), showLevel: true, ct);
        });
    }

    /// <summary>Runs diffusion training with progress lines (the step, its level when <paramref name="showLevel"/>,
    /// and the latent cache while it is built) on the leading rank.</summary>
    private static int RunMtd(MtdTrainOptions o, bool quiet, bool showLevel, CancellationToken ct)
    {
        bool q = quiet || !JobRanks.IsLeader;
        if (JobRanks.IsLeader) AnnounceRanks(o.Batch, o.Zero, q);
        var progress = new SyncProgress<MtdTrainProgress>(r =>
        {
            if (!q && (r.Step % 10 == 0 || r.Step == 1 || r.Step == r.Steps))
                Console.WriteLine($"step {r.Step,6}/{r.Steps}  {(showLevel ? $"level {r.Level}  " : "")}loss " +
                    $"{r.Loss:F5}  {r.ClipsPerSecond:F2} clips/s  eta {r.Eta:hh\\:mm\\:ss}");
        });
        var cache = new SyncProgress<(int Done, int Total)>(x =>
        {
            if (!q) Console.WriteLine($"latent cache: episode {x.Done}/{x.Total} ready");
        });
        MtdTrainer.Train(o, progress, ct, cache, JobRanks.Current);
        if (JobRanks.IsLeader)
            Console.WriteLine($"saved {Path.GetFullPath(o.Out)} (unet, text_encoder, tokenizer, scheduler)");
        return 0;
    }

    /// <summary>`train base` (image-to-video model with a frame embedding) and `train extend` (ExVideo).</summary>
    private static Command VideoModel(TrainingRole role)
    {
        var d = MtdTrainOptions.Defaults;
        bool extend = role == TrainingRole.Extend;
        var data = CliOptions.Text("--data", "dataset folder", "DIR", true);
        var outDir = CliOptions.Text("--out", "model folder (and its checkpoint)", "DIR", true);
        var vae = CliOptions.VaeFolder("--vae",
            "T-KLVAE whose latents the model learns (default: models/toonworld-vae)");
        var from = extend
            ? CliOptions.ModelFolder("--base", "the base model to extend (trained by `train base`), or --model")
            : CliOptions.ModelFolder("--init",
                "the model it starts from (e.g. models/toonworld-global)", required: true);
        var frames = extend
            ? CliOptions.Int("--frames", "frames the extended model generates at once", 80, 8, 4096)
            : CliOptions.Int("--length", "frames per clip", 16, 3, 1024);
        var given = CliOptions.Choice("--given", "frames given: first (image to video: consecutive frames), ends (a " +
            "DoD local model: consecutive frames, first and last given), none (a DoD global model: keyframes spread " +
            "over request lengths up to the episode's)", TrainingNames.Names<GivenFrames>());
        var spacing = CliOptions.Choice("--spacing", "--given none: keyframes spread over request lengths " +
            "(requests) or at the stride (L-1)^(depth-1) of one full hierarchy (hierarchy)",
            TrainingNames.Names<FrameSpacing>());
        var depth = CliOptions.Int("--depth", "--given none --spacing hierarchy: the hierarchy's depth", d.Depth, 1,
            8);
        var baseLength = CliOptions.Int("--base-length", "frames the base model was trained on", 16, 7, 1024);
        var steps = CliOptions.Int("--steps", "training steps", d.Steps, 0, 10_000_000);
        var batch = CliOptions.Int("--batch", "clips per step", d.Batch, 1, 4096);
        var lr = CliOptions.Number("--lr", "learning rate", extend ? 1e-4 : 2e-4, 1e-9, 10);
        var noAdapter = CliOptions.Flag("--no-adapter", "without the 3D convolution adapter (ablation)");
        var frozenTable = CliOptions.Flag("--frozen-table", "keep the position tables at their initial values " +
            "(ablation)");
        var checkpointing = CliOptions.Flag("--checkpointing", "gradient checkpointing (less memory, one more " +
            "forward pass)");
        var bf16 = CliOptions.Flag("--bf16", "bfloat16 mixed precision: bfloat16 activations and weight copies, " +
            "float32 accumulation and master weights (less memory)");
        var raw = CliOptions.Flag("--raw-weights", "export the last step's weights instead of the EMA");
        var seed = CliOptions.Seed();
        var checkpointEvery = CliOptions.Int("--checkpoint-every", "steps between checkpoints", d.CheckpointEvery, 1);
        var quiet = CliOptions.Flag("--quiet", "no progress output");
        var zero = ZeroOption();
        var device = TrainDevice();
        var c = new Command(role.Name(), extend
                ? "ExVideo post-tuning: extend a base model to --frames, training only its temporal blocks."
                : "Train a base model with a frame embedding: image to video (the first frame given) by default.")
            .With(data, outDir, vae, from, frames, given, spacing, depth, steps, batch, lr, raw, seed, checkpointEvery,
                checkpointing, bf16, quiet, zero, device);
        var svd = new SvdExtendCommand();
        if (extend) c.With(baseLength, noAdapter, frozenTable).With(svd.Own);
        return c.Runs((p, ct) =>
        {
            if (extend && p.GetValue(svd.Model) != null)
                return svd.Run(p, new SharedExtendOptions(data, outDir, frames, steps, batch, lr, raw, bf16, zero,
                    checkpointEvery, seed, quiet), new Option[] { from, vae, given, spacing, depth, baseLength,
                    noAdapter, frozenTable, device }, ct);
            if (extend && svd.Own.FirstOrDefault(o => p.GetResult(o) is { Implicit: false }) is { } svdOnly)
                throw new Tensors.SettingException(SettingFlags.SettingOf(svdOnly.Name), "is for post-tuning a " +
                    "published model (--model).");
            int length = p.GetValue(frames);
            var o = new MtdTrainOptions
            {
                Data = p.GetValue(data)!, Vae = p.GetValue(vae) ?? ShippedModels.Vae(), Out = p.GetValue(outDir)!,
                Role = role, Length = length, Steps = p.GetValue(steps), Batch = p.GetValue(batch),
                Given = TrainingNames.Parse<GivenFrames>(p.GetValue(given)!, nameof(MtdTrainOptions.Given)),
                Spacing = TrainingNames.Parse<FrameSpacing>(p.GetValue(spacing)!, nameof(MtdTrainOptions.Spacing)),
                Depth = p.GetValue(depth),
                Zero = p.GetValue(zero), ExportRaw = p.GetValue(raw), InitFrom = p.GetValue(from),
                LearningRate = (float)p.GetValue(lr), CheckpointEvery = p.GetValue(checkpointEvery),
                Seed = p.GetValue(seed), GradientCheckpointing = p.GetValue(checkpointing), Bf16 = p.GetValue(bf16),
                Extension = extend ? new Diffusion.ExVideo.ExVideoSettings(length, p.GetValue(baseLength),
                    !p.GetValue(noAdapter), !p.GetValue(frozenTable)) : null,
                Device = DeviceOption.Open(p, device),
            };
            try { return RunMtd(o, p.GetValue(quiet), showLevel: false, ct); }
            catch (Tensors.SettingException e) when (extend && e.Setting == nameof(MtdTrainOptions.InitFrom))
            {
                throw new Tensors.SettingException("Base", e.Message); // the model to extend is --base here
            }
        });
    }

    private static Option<string?> TrainDevice() => DeviceOption.Create("where the model trains",
        " (batches are drawn and checkpoints written on the host)");

    private static Option<int> ZeroOption() => CliOptions.Int("--zero",
        "under mpirun: ZeRO stage (0: optimizer replicated, 1: its moments sharded across ranks, 2: gradients too)", 0,
            0, 2);

    private static void AnnounceRanks(int batch, int zero, bool quiet)
    {
        var ranks = JobRanks.Current;
        if (!quiet && ranks.Size > 1)
            Console.WriteLine($"training on {ranks.Size} MPI ranks, {batch} clips each ({batch * ranks.Size} per " +
                $"step), " +
                              $"ZeRO stage {zero}");
    }

    private static Command Extractor()
    {
        var data = CliOptions.Text("--data", "dataset folder with annotations", "DIR", true);
        var outDir = CliOptions.Text("--out", "extractor folder to write", "DIR", true);
        var steps = CliOptions.Int("--steps", "training steps", 800, 1, 10_000_000);
        var seed = CliOptions.Seed();
        var quiet = CliOptions.Flag("--quiet", "no progress output");
        var c = new Command("extractor",
            "Train the evaluation feature extractor (frame and 16-frame clip encoders) on the " +
                                         "store's real frames and annotations; prints held-out accuracy.")
            .With(data, outDir, steps, seed, quiet);
        return c.Runs((p, ct) =>
        {
            var o = new ExtractorTrainOptions { Data = p.GetValue(data)!, Out = p.GetValue(outDir)!,
                Steps = p.GetValue(steps), Seed = p.GetValue(seed) };
            bool q = p.GetValue(quiet);
            var progress = new SyncProgress<ExtractorTrainProgress>(r =>
            {
                if (!q && (r.Step % 25 == 0 || r.Step == 1 || r.Step == r.Steps))
                    Console.WriteLine($"step {r.Step,5}/{r.Steps}  frame loss {r.FrameLoss:F4}  clip loss " +
                        $"{r.ClipLoss:F4}  eta {r.Eta:hh\\:mm\\:ss}");
            });
            var (fx, v) = ExtractorTrainer.Train(o, progress, ct);
            Console.WriteLine($"held-out accuracy: place {v.Place:P1}, time {v.Time:P1}, framing {v.Framing:P1}, " +
                $"shirts {v.Shirts:P1}, " +
                              $"accessories {v.Accessories:P1}, clip actions {v.Actions:P1}, cuts {v.Cuts:P1}  " +
                                  $"({v.Frames} frames, {v.Clips} clips)");
            Console.WriteLine($"cut threshold {fx.Config.CutThreshold:F4}; saved {Path.GetFullPath(o.Out)} (sha256 " +
                $"{fx.Sha256})");
            return 0;
        });
    }
}
