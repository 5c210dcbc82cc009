"""Training: the recipe, the Trainer loop, where it runs and on how many processes.

config        TrainConfig: the recipe's defaults and bounds; the memory check
trainer       Trainer (model-agnostic, callbacks) and train_model
device        devices and precision (auto: CUDA, MPS, CPU; bf16 where native)
distributed   torchrun data parallelism
film          the training film (a Trainer callback)
classifier    training the sample-judging classifier
"""
