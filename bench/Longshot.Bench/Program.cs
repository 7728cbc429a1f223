using Longshot.Tensors;
using Longshot.Tensors.Devices;
using Longshot.Bench;

// --device cuda[:N]: gemm, conv, attention, mtd, published-unet and generate run there (the others ignore it).
int deviceAt = Array.IndexOf(args, "--device");
if (deviceAt >= 0)
{
    if (deviceAt + 1 >= args.Length)
    {
        Console.Error.WriteLine("--device: a device is needed (cpu, cuda, cuda:N).");
        return 2;
    }
    GenerateBench.DeviceName = args[deviceAt + 1];
    args = args.Where((_, i) => i != deviceAt && i != deviceAt + 1).ToArray();
}
Device device;
try { device = Device.Parse(GenerateBench.DeviceName, "--device"); }
catch (LongshotException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}
bool onDevice = device != Device.Cpu;
if (onDevice) DeviceBench.Device = device;
var names = args.Where(a => !a.StartsWith("--")).ToList();
Report.Json = args.Contains("--json");
CudaBench.CpuAccelerator = args.Contains("--cpu-accelerator");
// A rank of the exvideo-128f case takes its arguments after its name (started by that case under mpirun).
if (names.Count > 0 && names[0] == "exvideo-128f-rank")
{
    ExVideoSvdBench.Rank(names.Skip(1).ToArray());
    return 0;
}
if (names.Count > 0 && names[0] == "exvideo-train-rank")
{
    ExVideoTrainBench.Rank(names.Skip(1).ToArray());
    return 0;
}
var all = new Dictionary<string, Action>
{
    ["gemm"] = onDevice ? () => CudaBench.Gemm(device) : GemmBench.Run,
    ["conv"] = onDevice ? DeviceBench.Conv : KernelBench.Conv,
    ["attention"] = onDevice ? DeviceBench.Attention : KernelBench.Attention,
    ["conv-svd"] = KernelBench.ConvSvd,
    ["groupnorm"] = KernelBench.GroupNorm,
    ["refnet"] = KernelBench.RefNet,
    ["refnet-memory"] = KernelBench.RefNetMemory,
    ["toonworld"] = DataBench.Toonworld,
    ["vae"] = VaeBench.Run,
    ["mtd"] = onDevice ? DeviceBench.Mtd : MtdBench.Run,
    ["generate"] = GenerateBench.Run,
    ["units"] = GenerateBench.UnitScaling,
    ["guidance"] = GenerateBench.GuidanceBatching,
    ["seams"] = GenerateBench.Seams,
    ["distributed"] = DistributedBench.Run,
    ["distributed-ranks"] = DistributedBench.Ranks,
    ["extend"] = ExtendBench.Run,
    ["cuda-parity"] = CudaBench.Parity,
    ["cuda-gemm"] = () => CudaBench.Gemm(Device.Cuda(0)),
    ["cuda-train"] = DeviceBench.TrainParity,
    ["published"] = PublishedBench.Run,
    ["published-prepare"] = PublishedBench.Prepare,
    ["published-unet"] = onDevice ? DeviceBench.PublishedUnet : PublishedBench.Unet,
    ["published-pipeline"] = PublishedBench.Pipeline,
    ["published-pipeline-prepare"] = PublishedBench.PreparePipeline,
    ["published-pipeline-run"] = PublishedBench.PipelineRun,
    ["tokenizer"] = TokenizerBench.Run,
    ["unet3d-16f-32x32"] = Unet3DBench.Run,
    ["unet3d-prepare"] = Unet3DBench.Prepare,
    ["unet3d-ours"] = Unet3DBench.Ours,
    ["video-infinity"] = VideoInfinityBench.Run,
    ["exvideo-128f"] = ExVideoSvdBench.Run,
    ["exvideo-train"] = () => ExVideoTrainBench.Run("fp32"),
    ["exvideo-train-bf16"] = () => ExVideoTrainBench.Run("bf16"),
    ["video-infinity-prepare"] = VideoInfinityBench.Prepare,
    ["video-infinity-rank"] = VideoInfinityBench.Rank,
};
foreach (var setting in ExtendBench.Settings) all[setting] = () => ExtendBench.Step(setting);
if (names.Count == 0 || names.Any(n => !all.ContainsKey(n)))
{
    Console.Error.WriteLine($"usage: Longshot.Bench <{string.Join("|", all.Keys)}>... [--json] " +
        "[--cpu-accelerator (cuda-* and --device cases: ILGPU's CPU accelerator instead of a GPU)] " +
        "[--device cuda[:N] (gemm, conv, attention, mtd, generate)]");
    return names.Count == 0 ? 0 : 2;
}
try
{
    foreach (var n in names) all[n]();
}
catch (LongshotException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}
return 0;
