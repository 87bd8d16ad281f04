import os

os.environ.setdefault("KERAS_BACKEND", "torch")  # Keras 3 on the CPU build of torch; no TensorFlow needed
