"""Exercise checks, one module per notebook (``helpers.checks.setup`` for notebook 00, ...).

Each ``check_...`` function takes the learner's answer, raises
:class:`helpers.exercises.NotAnswered` while it is still ``None``, raises
:class:`helpers.exercises.ExerciseIncorrect` with a plain explanation when it is wrong, and
prints a success line otherwise.
"""
