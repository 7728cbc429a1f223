using Longshot.Diffusion.Families;
using Longshot.Diffusion.Pipelines;
using Longshot.Diffusion.Vae;
using Longshot.Tensors;
using Xunit;

namespace Longshot.Diffusion.Tests;

/// <summary>
/// Model folders are found by the diffusers class name they record: the registry loads each into its typed model and
/// names what a folder holds when it is of another family or of one Longshot does not load.
/// </summary>
public class FamilyRegistryTests
{
    [Fact]
    public void AFolderIsLoadedByTheFamilyItsClassNames()
    {
        var dir = Directory.CreateTempSubdirectory("longshot-families-").FullName;
        try
        {
            string mtd = Path.Combine(dir, "mtd"), vae = Path.Combine(dir, "vae");
            TinyMtd.Create(1).Save(mtd);
            AutoencoderKL.Create(new AutoencoderKLConfig { BlockOutChannels = new[] { 32, 32 } }, 2).Save(vae);
            Assert.IsType<MtdFamily>(ModelFamilies.Find(mtd));
            Assert.IsType<AutoencoderKLFamily>(ModelFamilies.Find(vae));
            Assert.Equal(("MaskUNet3DModel", "model_index.json"), ModelFamilies.ClassOf(mtd));
            Assert.Equal(("AutoencoderKL", "config.json"), ModelFamilies.ClassOf(vae));
            Assert.NotNull(ModelFamilies.Load<MtdPipelineParts>(mtd).Unet);
            Assert.Equal(2, ModelFamilies.Load<AutoencoderKL>(vae).Config.BlockOutChannels.Length);

            // Each kind where the other is asked for: the folder, what it holds and what was asked.
            var e = Assert.Throws<InputFileException>(() => ModelFamilies.Require<AutoencoderKL>(mtd));
            Assert.Equal(mtd, e.Path);
            Assert.Contains("MaskUNet3DModel", e.Message);
            Assert.Contains("AutoencoderKL", e.Message);
            Assert.Contains("config.json", e.Message);
            Assert.Contains("model_index.json",
                Assert.Throws<InputFileException>(() => ModelFamilies.Load<MtdPipelineParts>(vae)).Message);

            // A published family Longshot loads is found by its class; one it does not is named, with its file.
            var svd = Path.Combine(dir, "svd-unet");
            Directory.CreateDirectory(svd);
            File.WriteAllText(Path.Combine(svd, "config.json"),
                "{\"_class_name\": \"UNetSpatioTemporalConditionModel\", \"in_channels\": 8}");
            Assert.IsType<SvdUnetFamily>(ModelFamilies.Find(svd));
            var t2v = Path.Combine(dir, "t2v-unet");
            Directory.CreateDirectory(t2v);
            File.WriteAllText(Path.Combine(t2v, "config.json"), "{\"_class_name\": \"SomeOtherUNetModel\"}");
            var unknown = Assert.Throws<InputFileException>(() => ModelFamilies.Find(t2v));
            Assert.Contains("SomeOtherUNetModel", unknown.Message);
            Assert.Contains(Path.Combine(t2v, "config.json"), unknown.Message);
            Assert.Contains("MaskUNet3DModel, AutoencoderKL, UNetSpatioTemporalConditionModel", unknown.Message);

            Assert.Contains("model folder not found",
                Assert.Throws<InputFileException>(() => ModelFamilies.Require<AutoencoderKL>(
                    Path.Combine(dir, "none"))).Message);
            var empty = Directory.CreateDirectory(Path.Combine(dir, "empty")).FullName;
            Assert.Contains("not a diffusers model folder",
                Assert.Throws<InputFileException>(() => ModelFamilies.Find(empty)).Message);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void EveryFamilyHasOneClassNameAndOneModelType()
    {
        Assert.Equal(ModelFamilies.All.Count, ModelFamilies.All.Select(f => f.ClassName).Distinct().Count());
        Assert.Equal(ModelFamilies.All.Count, ModelFamilies.All.Select(f => f.ModelType).Distinct().Count());
        Assert.Same(ModelFamilies.ByClassName("AutoencoderKL"), ModelFamilies.Of<AutoencoderKL>());
        Assert.Equal(typeof(MtdPipelineParts), ModelFamilies.ByClassName("MaskUNet3DModel")!.ModelType);
    }
}
