FROM python:3.11-slim
WORKDIR /app
COPY app.py ./
RUN echo about to fail && false
RUN echo never
