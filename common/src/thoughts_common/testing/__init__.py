"""Test helpers shared by the services: real servers, real databases, real syslog."""
