using Longshot.Tensors;
using Xunit;

namespace Longshot.Tensors.Tests;

/// <summary>The allocation budget checks every 4 MB tensor only inside a bounded scope (a published model's call),
/// and collects during inference only: a recorded graph holds the activations, which collections this frequent would
/// copy over and over.</summary>
[Collection("Serial")]
public class AllocationBudgetTests
{
    /// <summary>Full collections while eight 4 MB tensors are made under a 1 MB budget.</summary>
    private static int CollectionsFor(bool gradients, bool bounded)
    {
        long before = AllocationBudget.Bytes;
        try
        {
            AllocationBudget.Bytes = 1 << 20;
            int collections = GC.CollectionCount(2);
            using (gradients ? null : Tensor.NoGrad())
            using (bounded ? AllocationBudget.Bounded() : (IDisposable?)null)
                for (int i = 0; i < 8; i++) GC.KeepAlive(Tensor.Zeros(AllocationBudget.CheckedElements));
            return GC.CollectionCount(2) - collections;
        }
        finally { AllocationBudget.Bytes = before; }
    }

    [Fact]
    public void TensorsPastTheBudgetCollectInABoundedScopeWithoutAGraph() =>
        Assert.True(CollectionsFor(gradients: false, bounded: true) >= 7, "each 4 MB tensor is past a 1 MB budget");

    [Fact]
    public void OutsideABoundedScopeOnlyLargeTensorsCheck() =>
        Assert.True(CollectionsFor(gradients: false, bounded: false) < 7, "4 MB tensors do not check out of scope");

    [Fact]
    public void WithGradientsOnTheBudgetLeavesCollectingToDotNet() =>
        Assert.True(CollectionsFor(gradients: true, bounded: true) < 7, "no collection per tensor with gradients on");
}
