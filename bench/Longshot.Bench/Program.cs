using Longshot.Bench;

var names = args.Where(a => !a.StartsWith("--")).ToList();
Report.Json = args.Contains("--json");
var all = new Dictionary<string, Action>
{
    ["gemm"] = GemmBench.Run,
    ["conv"] = KernelBench.Conv,
    ["attention"] = KernelBench.Attention,
    ["groupnorm"] = KernelBench.GroupNorm,
    ["refnet"] = KernelBench.RefNet,
    ["refnet-memory"] = KernelBench.RefNetMemory,
    ["toonworld"] = DataBench.Toonworld,
    ["vae"] = VaeBench.Run,
    ["mtd"] = MtdBench.Run,
    ["generate"] = GenerateBench.Run,
    ["units"] = GenerateBench.UnitScaling,
    ["guidance"] = GenerateBench.GuidanceBatching,
    ["seams"] = GenerateBench.Seams,
    ["distributed"] = DistributedBench.Run,
    ["distributed-ranks"] = DistributedBench.Ranks,
    ["extend"] = ExtendBench.Run,
};
foreach (var setting in ExtendBench.Settings) all[setting] = () => ExtendBench.Step(setting);
if (names.Count == 0 || names.Any(n => !all.ContainsKey(n)))
{
    Console.Error.WriteLine($"usage: Longshot.Bench <{string.Join("|", all.Keys)}>... [--json]");
    return names.Count == 0 ? 0 : 2;
}
foreach (var n in names) all[n]();
return 0;
