//! moto server on 127.0.0.1 (the AWS emulator): virtualenv, start, SDK configuration.
