FROM python:3.11-slim
ENV APP_HOME=/app
WORKDIR /app
COPY requirements.txt ./
RUN echo "installing from $(cat requirements.txt)" && sleep 1 && mkdir -p /opt/deps
COPY app.py ./
RUN python3 -c 'print("built")' > /app/built.txt
CMD ["python3", "app.py"]
