using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace Longshot.Tensors.IO;

/// <summary>The header entry of one stored tensor.</summary>
public sealed record TensorInfo(string Name, DType DType, int[] Shape, long Start, long End);

/// <summary>Raised for a safetensors file that is truncated, corrupt or uses an unsupported type.</summary>
public sealed class SafeTensorsFormatException(string message) : LongshotException(message);

/// <summary>
/// A safetensors file opened for reading through a memory map: the header is parsed and checked up front,
/// tensors are converted to float32 only when asked for.
/// </summary>
public sealed unsafe class SafeTensorsFile : IDisposable
{
    private readonly MemoryMappedFile _map;
    private readonly MemoryMappedViewAccessor _view;
    private readonly long _dataStart;
    private readonly Dictionary<string, TensorInfo> _infos;
    private byte* _base;

    /// <summary>The file's path.</summary>
    public string Path { get; }

    /// <summary>Free-form string metadata from the header.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Names of the stored tensors.</summary>
    public IReadOnlyCollection<string> Keys => _infos.Keys;

    private SafeTensorsFile(string path, MemoryMappedFile map, MemoryMappedViewAccessor view, long dataStart,
        Dictionary<string, TensorInfo> infos, Dictionary<string, string> metadata)
    {
        Path = path; _map = map; _view = view; _dataStart = dataStart; _infos = infos; Metadata = metadata;
    }

    /// <summary>Opens and validates a file. Throws <see cref="SafeTensorsFormatException"/> naming the
    /// problem.</summary>
    public static SafeTensorsFile Open(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"safetensors file not found: {path}", path);
        // Hugging Face's cache links a snapshot's files to its blobs: the size is the target's.
        var info = new FileInfo(path);
        if (info.LinkTarget != null
            && info.ResolveLinkTarget(returnFinalTarget: true) is FileInfo target) info = target;
        long size = info.Length;
        if (size < 8)
            throw new SafeTensorsFormatException($"{path}: file is {size} bytes, too short for a safetensors header " +
            $"(truncated?).");
        var map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        var view = map.CreateViewAccessor(0, size, MemoryMappedFileAccess.Read);
        try
        {
            ulong hlen = view.ReadUInt64(0);
            if (hlen == 0 || hlen > 100_000_000 || (long)hlen > size - 8)
                throw new SafeTensorsFormatException($"{path}: header length {hlen} does not fit a file of {size} " +
                    $"bytes (truncated or not a safetensors file).");
            var bytes = new byte[hlen];
            view.ReadArray(8, bytes, 0, (int)hlen);
            long dataStart = 8 + (long)hlen, dataLen = size - dataStart;
            var (infos, meta) = ParseHeader(path, bytes, dataLen);
            return new SafeTensorsFile(path, map, view, dataStart, infos, meta);
        }
        catch
        {
            view.Dispose(); map.Dispose();
            throw;
        }
    }

    private static (Dictionary<string, TensorInfo>, Dictionary<string, string>) ParseHeader(string path, byte[] bytes,
        long dataLen)
    {
        // Names that are not UTF-8 surface as InvalidOperationException from the JSON reader; the file is at fault.
        try { return ParseHeaderJson(path, bytes, dataLen); }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or FormatException)
        {
            throw new SafeTensorsFormatException($"{path}: header is not valid UTF-8 JSON ({e.Message})");
        }
    }

    private static (Dictionary<string, TensorInfo>, Dictionary<string, string>) ParseHeaderJson(string path,
        byte[] bytes,
        long dataLen)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(bytes); }
        catch (JsonException e) { throw new SafeTensorsFormatException($"{path}: header is not valid JSON " +
            $"({e.Message})."); }
        using var _ = doc;
        if (doc.RootElement.ValueKind != JsonValueKind.Object)
            throw new SafeTensorsFormatException($"{path}: header is not a JSON object.");
        var infos = new Dictionary<string, TensorInfo>();
        var meta = new Dictionary<string, string>();
        foreach (var p in doc.RootElement.EnumerateObject())
        {
            if (p.Name == "__metadata__")
            {
                if (p.Value.ValueKind == JsonValueKind.Object)
                    foreach (var m in p.Value.EnumerateObject())
                        meta[m.Name] = m.Value.ValueKind == JsonValueKind.String ? m.Value.GetString()!
                            : m.Value.GetRawText();
                continue;
            }
            try
            {
                var dtypeStr = p.Value.GetProperty("dtype").GetString();
                var dtype = dtypeStr switch
                {
                    "F32" => DType.F32, "F16" => DType.F16, "BF16" => DType.BF16, "F64" => DType.F64,
                    _ => throw new SafeTensorsFormatException($"{path}: tensor '{p.Name}' has dtype {dtypeStr}; " +
                        $"supported are F32, F16, BF16 and F64."),
                };
                var shape = p.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray();
                var offs = p.Value.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
                if (offs.Length != 2 || offs[0] < 0 || offs[1] < offs[0] || offs[1] > dataLen)
                    throw new SafeTensorsFormatException($"{path}: tensor '{p.Name}' has data offsets " +
                        $"[{string.Join(", ", offs)}] outside the {dataLen} data bytes (truncated file?).");
                long expect = (long)ShapeUtil.CheckedNumel(shape) * HalfConvert.Size(dtype);
                if (offs[1] - offs[0] != expect)
                    throw new SafeTensorsFormatException($"{path}: tensor '{p.Name}' of shape {ShapeUtil.Str(shape)} " +
                        $"and dtype {dtype} needs {expect} bytes but has {offs[1] - offs[0]}.");
                infos[p.Name] = new TensorInfo(p.Name, dtype, shape, offs[0], offs[1]);
            }
            catch (Exception e)
                when (e is KeyNotFoundException or InvalidOperationException or FormatException or ArgumentException)
            {
                throw new SafeTensorsFormatException($"{path}: header entry '{p.Name}' is malformed ({e.Message}).");
            }
        }
        return (infos, meta);
    }

    /// <summary>Whether a tensor of that name is stored.</summary>
    public bool Contains(string name) => _infos.ContainsKey(name);

    /// <summary>Header entry of one tensor.</summary>
    public TensorInfo Info(string name) =>
        _infos.TryGetValue(name, out var i) ? i : throw new KeyNotFoundException($"{Path}: no tensor named '{name}'.");

    /// <summary>Reads one tensor, converted to float32.</summary>
    public Tensor Load(string name)
    {
        var info = Info(name);
        int n = ShapeUtil.Numel(info.Shape);
        var dst = GC.AllocateUninitializedArray<float>(n);
        long pos = _dataStart + info.Start;
        switch (info.DType)
        {
            case DType.F32:
                _view.ReadArray(pos, dst, 0, n);
                break;
            case DType.F64:
            {
                var tmp = new double[n]; _view.ReadArray(pos, tmp, 0, n);
                for (int i = 0; i < n; i++) dst[i] = (float)tmp[i];
                break;
            }
            default:
            {
                var tmp = new ushort[n]; _view.ReadArray(pos, tmp, 0, n);
                if (info.DType == DType.BF16) Kernels.Bf16.ToFloat(tmp, dst);
                else for (int i = 0; i < n; i++) dst[i] = HalfConvert.FromHalf(tmp[i]);
                break;
            }
        }
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("safetensors reading needs a little-endian machine.");
        return Tensor.FromArray(dst, info.Shape);
    }

    /// <summary>Reads every tensor.</summary>
    public Dictionary<string, Tensor> LoadAll() => _infos.Keys.ToDictionary(k => k, Load);

    /// <summary>
    /// One tensor read in place, in its stored type, widened to float32 only while in use (see
    /// <see cref="MappedWeights"/>). The tensor keeps this file open; do not dispose a file whose mapped tensors are
    /// still in use. Read-only: writing into it is lost when its widened copy is dropped.
    /// </summary>
    public Tensor LoadMapped(string name)
    {
        var info = Info(name);
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("safetensors reading needs a little-endian machine.");
        lock (_infos)
        {
            if (_base == null)
            {
                _view.SafeMemoryMappedViewHandle.AcquirePointer(ref _base);
                _base += _view.PointerOffset;
            }
        }
        var elements = new MappedElements(this, _base + _dataStart + info.Start, info.DType,
            ShapeUtil.Numel(info.Shape));
        return new Tensor(new TensorBuffer(elements), (int[])info.Shape.Clone(),
            ShapeUtil.ContiguousStrides(info.Shape), 0);
    }

    /// <summary>Bytes the stored tensors take in the file.</summary>
    public long DataBytes => _infos.Values.Sum(i => i.End - i.Start);

    public void Dispose()
    {
        if (_base != null)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _base = null;
        }
        _view.Dispose();
        _map.Dispose();
    }
}

/// <summary>Writes safetensors files (atomically).</summary>
public static class SafeTensors
{
    /// <summary>Writes tensors (sorted by name) in the given storage type, with optional string metadata.</summary>
    public static void Save(string path, IReadOnlyDictionary<string, Tensor> tensors, DType dtype = DType.F32,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        if (dtype == DType.F64)
            throw new ArgumentException("SafeTensors.Save: F64 output is not supported; use F32, F16 or BF16.");
        var names = tensors.Keys.OrderBy(k => k, StringComparer.Ordinal).ToList();
        var header = new Dictionary<string, object>();
        if (metadata != null && metadata.Count > 0) header["__metadata__"] = metadata;
        long off = 0;
        int esize = HalfConvert.Size(dtype);
        foreach (var n in names)
        {
            var t = tensors[n];
            long len = (long)t.Numel * esize;
            header[n] = new { dtype = dtype.ToString(), shape = t.Shape, data_offsets = new[] { off, off + len } };
            off += len;
        }
        var json = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(header));
        int padded = (json.Length + 7) / 8 * 8;
        AtomicFile.Write(path, s =>
        {
            Span<byte> len8 = stackalloc byte[8];
            BitConverter.TryWriteBytes(len8, (ulong)padded);
            s.Write(len8);
            s.Write(json);
            for (int i = json.Length; i < padded; i++) s.WriteByte((byte)' ');
            foreach (var n in names)
            {
                var data = tensors[n].ToArray();
                if (dtype == DType.F32) s.Write(MemoryMarshal.AsBytes(data.AsSpan()));
                else
                {
                    var half = dtype == DType.BF16 ? Kernels.Bf16.FromFloat(data) : new ushort[data.Length];
                    if (dtype != DType.BF16)
                        for (int i = 0; i < data.Length; i++) half[i] = HalfConvert.ToHalf(data[i]);
                    s.Write(MemoryMarshal.AsBytes(half.AsSpan()));
                }
            }
        });
    }

    /// <summary>Reads every tensor of a file.</summary>
    public static Dictionary<string, Tensor> Load(string path)
    {
        using var f = SafeTensorsFile.Open(path);
        return f.LoadAll();
    }
}
