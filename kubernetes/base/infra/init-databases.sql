-- One database per backend (run once, when the volume is new).
CREATE DATABASE users;
CREATE DATABASE thoughts;
