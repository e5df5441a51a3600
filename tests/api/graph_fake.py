"""The Microsoft Graph contract fake (tests/services/microsoft/) for the API suite (contract_fake.py)."""

import contract_fake as cf

CLIENT_ID = "7c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
CLIENT_SECRET = "api~test~secret"

follow = cf.follow


def GraphFake(*options):
    return cf.ContractFake("microsoft", *options)


def calgate_env(fake, secret_file, public_url, port):
    return {
        "CALGATE_MICROSOFT_CLIENT_ID": CLIENT_ID,
        "CALGATE_MICROSOFT_CLIENT_SECRET_FILE": secret_file,
        "CALGATE_MICROSOFT_ISSUER": fake.url + "common/v2.0",
        "CALGATE_MICROSOFT_API_ROOT": fake.url,
        "CALGATE_MICROSOFT_ALLOW_INSECURE_LOOPBACK": "true",
        "CALGATE_SERVER_PUBLIC_URL": public_url,
        "CALGATE_SERVER_PORT": str(port),
    }


def connect(api, public_url, account, decision="allow"):
    return cf.connect(api, "microsoft", public_url, account, decision)
