using Longshot.Diffusion.Unet3D;
using Longshot.Tensors;
using Longshot.Tensors.IO;

namespace Longshot.Diffusion.Families;

/// <summary>The text-to-video UNet folder (unet/ of damo-vilab/text-to-video-ms-1.7b, cerspense/zeroscope_v2_576w,
/// and VideoCrafter2 in Video-Infinity's diffusers port): config.json and its weights in any stored type, read in
/// place.</summary>
public sealed class Unet3DFamily : ModelFamily<Unet3DModel>
{
    /// <inheritdoc/>
    public override string ClassName => Unet3DConfig.Class;

    /// <inheritdoc/>
    public override bool Loads(string className) => className is Unet3DConfig.Class or Unet3DConfig.VideoCrafterClass;

    /// <inheritdoc/>
    public override string Title => "text-to-video UNet (ModelScope, zeroscope, VideoCrafter2)";

    /// <inheritdoc/>
    public override string IndexFile => "config.json";

    /// <inheritdoc/>
    public override Unet3DModel Load(string folder) =>
        Unet3DModel.Mapped(Unet3DConfig.Load(Path.Combine(folder, IndexFile)), ComponentWeights.Open(folder));

    /// <inheritdoc/>
    public override IReadOnlyList<string> ModelMethods => new[] { "forward" };

    /// <summary>forward: sample [B, C, F, H, W], timestep, encoder_hidden_states [B, L, C]; fps for
    /// VideoCrafter2.</summary>
    public override IReadOnlyDictionary<string, Tensor> RunMethod(string folder, string method,
        IReadOnlyDictionary<string, Tensor> inputs)
    {
        if (method != "forward") return base.RunMethod(folder, method, inputs);
        var unet = Load(folder);
        float? fps = unet.Config.HasFps ? Scalar(inputs, "fps", method) : null;
        using var _ = Tensor.NoGrad();
        return new Dictionary<string, Tensor>
        {
            ["sample"] = unet.Forward(Input(inputs, "sample", method), Scalar(inputs, "timestep", method),
                Input(inputs, "encoder_hidden_states", method), fps),
        };
    }
}
