"""autograder: the grading checks that the notebooks' hidden tests call, and the instructor tools."""
