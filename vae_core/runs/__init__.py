"""Trainings as units of work: one run from data to checkpoint, background jobs, β sweeps.

run           the one orchestrator: load data -> film -> callbacks -> train -> metadata -> save
jobs          the app's background queue (one worker, owners, cancel, snapshots)
sweep         a resumable grid of trainings (python -m vae_core.sweep)
sweep_table   the sweep's table (sweep.csv, sweep.json), rebuilt from the folder's checkpoints
sweep_rows    sweep.json read without trusting it (read_table: usable rows and a reason; never raises)
"""
