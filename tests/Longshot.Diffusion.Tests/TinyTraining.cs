using Longshot.Diffusion.Text;
using Longshot.Diffusion.Training;
using Longshot.Diffusion.Unet;
using Longshot.Diffusion.Vae;
using Longshot.Video.Store;
using Longshot.Video.Toonworld;

namespace Longshot.Diffusion.Tests;

/// <summary>The smallest diffusion training run the tests use: two 40-frame 16 x 16 Toonworld episodes and a fresh
/// temporal VAE in <c>dir</c> (made on first use), L = 4, depth 2, tiny UNet and text encoder. The device tests ask
/// for a VAE of 3 blocks (4 x 4 latents instead of 8 x 8): ILGPU's CPU accelerator is slow.</summary>
internal static class TinyTraining
{
    public static MtdTrainOptions Options(string dir, string role, string outName, int steps, int vaeBlocks = 2)
    {
        string P(string n) => Path.Combine(dir, n);
        if (!Directory.Exists(P("data")))
        {
            DatasetBuilder.GenerateToonworld(P("data"),
                new ToonworldSettings { Frames = 40, Width = 16, Height = 16, Seed = 3 }, 2);
            AutoencoderKL.Create(new AutoencoderKLConfig
                    { BlockOutChannels = Enumerable.Repeat(32, vaeBlocks).ToArray(), Temporal = true }, 1)
                .Save(P("vae"));
        }
        return new MtdTrainOptions
        {
            Data = P("data"), Vae = P("vae"), Out = P(outName), Role = TrainingNames.Parse<TrainingRole>(role, "Role"),
            Length = 4, Depth = 2, Steps = steps,
            Batch = 1, CheckpointEvery = 1,
            Unet = new MaskUnetConfig { BlockOutChannels = new[] { 32, 32 }, AttentionLevels = new[] { false, true } },
            Text = new TextEncoderConfig { Hidden = 32, Heads = 4, Layers = 1, Intermediate = 64, MaxLength = 40 },
        };
    }
}
