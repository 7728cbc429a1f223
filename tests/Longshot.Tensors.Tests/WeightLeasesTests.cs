using Longshot.Tensors.IO;
using Xunit;

namespace Longshot.Tensors.Tests;

/// <summary>The arrays widened weights borrow: two kept, the smallest that fits lent, large ones kept only while
/// they are borrowed between trims.</summary>
[Collection("Serial")]
public class WeightLeasesTests
{
    [Fact]
    public void TwoArraysAreKeptAndTheSmallestThatFitsIsLent()
    {
        WeightLeases.Clear();
        var big = WeightLeases.Rent(1000);
        var small = WeightLeases.Rent(100);
        Assert.True(big.Length >= 1000 && small.Length >= 100);
        WeightLeases.Return(big);
        WeightLeases.Return(small);
        Assert.Same(small, WeightLeases.Rent(50));   // the smallest that fits, not the first
        Assert.Same(big, WeightLeases.Rent(500));
        var fresh = WeightLeases.Rent(2000);        // nothing kept fits: a new array
        Assert.NotSame(big, fresh);
        WeightLeases.Return(small);
        WeightLeases.Return(big);
        WeightLeases.Return(fresh);                 // no room: it replaces the smallest kept (small)
        Assert.Same(fresh, WeightLeases.Rent(1500));
        Assert.Same(big, WeightLeases.Rent(10));
        Assert.NotSame(small, WeightLeases.Rent(10));
    }

    [Fact]
    public void LargeArraysAreDroppedOnceATrimPassesWithoutThem()
    {
        WeightLeases.Clear();
        var small = WeightLeases.Rent(100);
        var huge = WeightLeases.Rent(WeightLeases.KeptElements + 1);
        WeightLeases.Return(huge);
        WeightLeases.Return(small);
        WeightLeases.Trim();                          // borrowed since the last trim: kept
        Assert.Same(huge, WeightLeases.Rent(WeightLeases.KeptElements + 1));
        WeightLeases.Return(huge);
        WeightLeases.Trim();
        Assert.Same(small, WeightLeases.Rent(100));
        WeightLeases.Return(small);
        WeightLeases.Trim();                          // the huge one was not borrowed since the last trim
        Assert.NotSame(huge, WeightLeases.Rent(WeightLeases.KeptElements + 1));
        Assert.Same(small, WeightLeases.Rent(100));  // a small one stays whether or not it is borrowed
    }
}
