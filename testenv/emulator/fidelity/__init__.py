"""The ack-rs AWS emulator: moto's server plus "fidelity rules".

moto answers most AWS calls well enough for controller tests, but a few of its answers are
the opposite of what AWS does (see shared/aws-tag-rules.md and README.md). The rules in
``fidelity.rules`` sit in front of moto and make those few calls behave like AWS.
"""
