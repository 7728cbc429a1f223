using System.CommandLine;
using Longshot.Diffusion.Pipelines;
using Longshot.Tensors;
using Longshot.Tensors.Cuda;
using Longshot.Tensors.Devices;

namespace Longshot.Cli;

/// <summary>--device (or LONGSHOT_DEVICE): where the diffusion models sample, or where a model trains.</summary>
internal static class DeviceOption
{
    public const string Variable = "LONGSHOT_DEVICE";

    public static Option<string?> Create(string what = "where the diffusion models sample",
        string note = "; the VAE decodes on the CPU")
    {
        var o = CliOptions.Text("--device", $"{what}: cpu, or cuda[:N] for an NVIDIA GPU (default: {Variable}, " +
            $"else cpu){note}", "DEVICE");
        o.Validators.Add(r =>
        {
            try { Device.Parse(CliOptions.Token(r), "--device"); }
            catch (LongshotException e) { r.AddError(e.Message); }
        });
        return o;
    }

    /// <summary>The device asked for; a CUDA device is opened and registered here (a one-line error when there is
    /// none), so that tensors can move to it.</summary>
    public static Device Open(ParseResult p, Option<string?> option)
    {
        var text = p.GetValue(option) ?? Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrWhiteSpace(text)) return Device.Cpu;
        var device = Device.Parse(text, p.GetValue(option) != null ? "--device" : Variable);
        CudaBackend.EnsureRegistered(device);
        return device;
    }

    /// <summary>Moves <paramref name="pipe"/>'s diffusion models to the device asked for (nothing for the
    /// CPU).</summary>
    public static void Apply(ParseResult p, Option<string?> option, LongVideoPipeline pipe)
    {
        var device = Open(p, option);
        if (device != Device.Cpu) pipe.ToDevice(device);
    }
}
