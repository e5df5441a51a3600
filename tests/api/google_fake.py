"""The Google Calendar contract fake (tests/services/google/) for the API suite (contract_fake.py)."""

import contract_fake as cf

CLIENT_ID = "calgate-api-test.apps.googleusercontent.com"
CLIENT_SECRET = "GOCSPX-api-test-secret"

fetch = cf.fetch
follow = cf.follow


def GoogleFake(*options, port=0):
    return cf.ContractFake("google", *options, port=port)


def calgate_env(fake, secret_file, public_url, port):
    return {
        "CALGATE_GOOGLE_CLIENT_ID": CLIENT_ID,
        "CALGATE_GOOGLE_CLIENT_SECRET_FILE": secret_file,
        "CALGATE_GOOGLE_ISSUER": fake.issuer,
        "CALGATE_GOOGLE_API_ROOT": fake.url,
        "CALGATE_GOOGLE_ALLOW_INSECURE_LOOPBACK": "true",
        "CALGATE_SERVER_PUBLIC_URL": public_url,
        "CALGATE_SERVER_PORT": str(port),
    }


def connect(api, public_url, account, decision="allow"):
    return cf.connect(api, "google", public_url, account, decision)
