"""Static spec of ``image_folder`` (plain data: nothing heavy imported)."""

from __future__ import annotations

from dmzoo.core.spec import DataModuleSpec, Feature

IMAGE_FOLDER = DataModuleSpec(
    name="image_folder",
    version="1.0.0",
    cls="dmzoo.plugins.vision.image_folder.datamodule:ImageFolderDataModule",
    task="image-classification",
    fixture="dmzoo.plugins.vision.image_folder.datamodule:fixture",
    tags=("vision", "image-classification", "generic", "your-data"),
    supervised_keys=("image", "label"),
    summary="Your own folder of images (one subfolder per class) as a fast datamodule.",
    description=(
        "import dmzoo; dm = dmzoo.load_datamodule('image_folder', root='photos/', "
        "image_size=(64, 64), batch_size=128, augment=True)\n\n"
        "Layout as torchvision's ImageFolder: root/<class>/<image>; optional root/train, "
        "root/val (or valid, validation) and root/test folders replace the seeded split "
        "(val_split 0.1, test_split 0.2, stratified). Classes are the sorted folder names; "
        "num_classes, classes, dims and mean/std (of the training split) as the vision "
        "datamodules.\n\n"
        "prepare_data() decodes every image once with Pillow, on all cores (prepare_workers), "
        "with a progress bar, resized to image_size (resize='crop': scale to cover, centre crop; "
        "'stretch': ignore the aspect ratio; mode 'RGB' or 'L') into a uint8 memory-mapped "
        "cache keyed by a fingerprint of the files (paths, sizes, modification times) and the "
        "options: a changed, added or removed file rebuilds it ('dmzoo cache list' shows it, "
        "'dmzoo cache rm image_folder' removes it). Epochs then run on the batched fast path "
        "of MNIST/CIFAR (augment=True: random crop, padding image_size/8, horizontal flip), "
        "with num_workers and pin_memory.\n\n"
        "image_size=None: images of any size, decoded per sample and passed to "
        "train_transforms/val_transforms/test_transforms (torchvision). Unreadable files are "
        "listed in the error (on_error='skip': in a warning); a missing folder, one class or "
        "an empty class folder are errors."
    ),
    features=(
        Feature("image", dtype="uint8", description="pixels 0-255, channels first, image_size"),
        Feature("label", shape=(), dtype="int64", description="index into the sorted class folders"),
    ),
    license="(your data)",
    release_notes={"1.0.0": "First release."},
)
