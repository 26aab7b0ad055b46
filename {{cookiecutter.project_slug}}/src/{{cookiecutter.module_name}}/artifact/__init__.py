"""The model artifact: the files training writes and serving reads, and the checked ONNX export."""
