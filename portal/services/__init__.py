"""Domain services shared by the web portal and the workers.

They import models and integrations, never views or jobs.
"""
