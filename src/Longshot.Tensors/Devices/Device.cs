namespace Longshot.Tensors.Devices;

/// <summary>The kinds of device a tensor's elements can live on.</summary>
public enum DeviceKind { Cpu, Cuda }

/// <summary>Where a tensor's elements live: the CPU (managed memory) or CUDA device N.</summary>
public readonly record struct Device(DeviceKind Kind, int Ordinal = 0)
{
    /// <summary>Managed memory on the host, the engine's own kernels.</summary>
    public static readonly Device Cpu = new(DeviceKind.Cpu);

    /// <summary>CUDA device <paramref name="ordinal"/>.</summary>
    public static Device Cuda(int ordinal = 0) => new(DeviceKind.Cuda, ordinal);

    /// <summary>Reads "cpu", "cuda" or "cuda:N"; anything else is a <see cref="LongshotException"/> naming
    /// <paramref name="source"/> (where the text came from: a setting or an environment variable).</summary>
    public static Device Parse(string text, string source = "device")
    {
        var t = text.Trim().ToLowerInvariant();
        if (t == "cpu") return Cpu;
        if (t == "cuda") return Cuda();
        if (t.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(t[5..], out int n) && n >= 0)
            return Cuda(n);
        throw new LongshotException($"{source}: '{text}' is not a device; use cpu, cuda or cuda:N.");
    }

    public override string ToString() => Kind == DeviceKind.Cpu ? "cpu" : $"cuda:{Ordinal}";
}
