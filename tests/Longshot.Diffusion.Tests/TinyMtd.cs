using Longshot.Diffusion.Pipelines;
using Longshot.Diffusion.Schedulers;
using Longshot.Diffusion.Text;
using Longshot.Diffusion.Unet;

namespace Longshot.Diffusion.Tests;

/// <summary>
/// The small MTD the sampler and pipeline tests run (also linked into the device tests): a UNet of two 32-channel
/// levels with attention on the second, a one-layer text encoder over the words of "a red ball" and "a blue ball
/// rolls"; fresh weights from the seed.
/// </summary>
internal static class TinyMtd
{
    public static MtdPipelineParts Create(ulong seed)
    {
        var tok = WordTokenizer.Build(new[] { "a red ball", "a blue ball rolls" }, 8);
        return MtdPipelineParts.Create(new MaskUnetConfig { BlockOutChannels = new[] { 32, 32 },
                AttentionLevels = new[] { false, true } },
            new TextEncoderConfig { VocabSize = tok.VocabularySize, MaxLength = 8, Hidden = 32, Heads = 4, Layers = 1,
                Intermediate = 64 }, tok, new SchedulerConfig(), seed);
    }
}
