using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Longshot.Tensors;

namespace Longshot.Diffusion.Pipelines;

/// <summary>A job's identity for its run folder: a SHA-256 of everything its result depends on (settings as JSON,
/// input tensors as bytes), so a folder is continued only by the same job.</summary>
public static class JobIdentity
{
    /// <summary>The hex digest of <paramref name="settings"/> (each serialised as JSON) and
    /// <paramref name="inputs"/> (their float bytes), in order.</summary>
    public static string Of(IEnumerable<object> settings, IEnumerable<Tensor> inputs)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var part in settings) hash.AppendData(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(part)));
        foreach (var t in inputs) hash.AppendData(MemoryMarshal.AsBytes(t.Contiguous().ToArray().AsSpan()));
        return Convert.ToHexString(hash.GetHashAndReset());
    }
}
