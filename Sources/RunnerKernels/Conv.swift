/// Convolution and pooling kernels (filled in with the convnet layers).
public protocol ConvKernels {}
extension Float: ConvKernels {}
extension Double: ConvKernels {}
