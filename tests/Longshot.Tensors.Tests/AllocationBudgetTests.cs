using Longshot.Tensors;
using Xunit;

namespace Longshot.Tensors.Tests;

/// <summary>The allocation budget collects during inference only.</summary>
[Collection("Serial")]
public class AllocationBudgetTests
{
    [Fact]
    public void LargeTensorsPastTheBudgetCollectWithoutAGraph()
    {
        long before = AllocationBudget.Bytes;
        try
        {
            AllocationBudget.Bytes = 1 << 20;
            int collections = GC.CollectionCount(2);
            using (Tensor.NoGrad())
                for (int i = 0; i < 8; i++) GC.KeepAlive(Tensor.Zeros(AllocationBudget.CheckedElements));
            Assert.True(GC.CollectionCount(2) - collections >= 7, "each 4 MB tensor is past a 1 MB budget");
        }
        finally { AllocationBudget.Bytes = before; }
    }
}
