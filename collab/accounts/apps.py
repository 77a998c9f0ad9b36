from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "collab.accounts"
    label = "accounts"
    verbose_name = "Accounts, roles and sign-in"
